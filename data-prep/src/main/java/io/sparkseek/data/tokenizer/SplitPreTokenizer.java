package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * HF {@code Split} pre-tokenizer: finds the matches of a regex (or a literal string) in each piece, optionally inverts
 * which ranges count as matches, then keeps, drops or merges them per {@link SplitBehavior} (HF's
 * {@code NormalizedString::split}).
 *
 * <p>HF compiles regexes with Oniguruma. Java's engine is compiled with {@link Pattern#UNICODE_CHARACTER_CLASS} so that
 * {@code \s}, {@code \d} and {@code \w} are Unicode-aware as they are in Oniguruma (Java's defaults are ASCII-only);
 * {@code \p{L}}, {@code \p{N}}, {@code \p{M}}, {@code \p{P}} and {@code \p{S}} are general categories in both. A region
 * with opaque bounds gives each piece the same view as the substring HF matches on (a lookahead stops at its end).
 */
final class SplitPreTokenizer extends PreTokenizer {
    private final String source;
    private final boolean isRegex;
    private final Pattern pattern;
    /** A hand-written matcher for spec §10's patterns (same matches as {@link #pattern}), or null. */
    private final KnownPattern known;
    private final SplitBehavior behavior;
    private final boolean invert;

    private SplitPreTokenizer(String source, boolean isRegex, SplitBehavior behavior, boolean invert) {
        this(source, isRegex, behavior, invert, true);
    }

    private SplitPreTokenizer(String source, boolean isRegex, SplitBehavior behavior, boolean invert,
            boolean useKnown) {
        this.source = source;
        this.isRegex = isRegex;
        this.behavior = behavior;
        this.invert = invert;
        this.pattern = source.isEmpty() ? null : compile(isRegex ? source : Pattern.quote(source), source);
        this.known = isRegex && useKnown ? KnownPattern.of(source) : null;
    }

    static SplitPreTokenizer regex(String regex, SplitBehavior behavior, boolean invert) {
        return new SplitPreTokenizer(regex, true, behavior, invert);
    }

    /** The same split always run by java.util.regex (tests compare it with the {@link KnownPattern} path). */
    SplitPreTokenizer regexOnly() {
        return new SplitPreTokenizer(source, isRegex, behavior, invert, false);
    }

    static SplitPreTokenizer literal(String text, SplitBehavior behavior, boolean invert) {
        return new SplitPreTokenizer(text, false, behavior, invert);
    }

    static SplitPreTokenizer fromSplitJson(JsonNode node) {
        JsonNode pat = node.get("pattern");
        if (pat == null || !pat.isObject() || pat.size() != 1) {
            throw new IllegalArgumentException(
                    "Split pre_tokenizer needs \"pattern\": {\"Regex\": ...} or {\"String\": ...}, got: " + Json.abbreviate(node));
        }
        SplitBehavior behavior = SplitBehavior.fromJson(Json.text(node, "behavior", "Split pre_tokenizer"));
        boolean invert = Json.bool(node, "invert", false);
        if (pat.has("Regex")) {
            return regex(Json.text(pat, "Regex", "Split pattern"), behavior, invert);
        }
        if (pat.has("String")) {
            return literal(Json.text(pat, "String", "Split pattern"), behavior, invert);
        }
        throw new IllegalArgumentException("Split pattern must be {\"Regex\": ...} or {\"String\": ...}, got: " + pat);
    }

    private static Pattern compile(String regex, String original) {
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("Split regex '" + original + "' does not compile in java.util.regex: "
                    + e.getDescription() + "; rewrite it in syntax both Oniguruma and Java accept", e);
        }
    }

    @Override
    Pieces apply(Pieces in) {
        Pieces out = new Pieces(in.text);
        Matcher m = pattern == null || known != null ? null : pattern.matcher(in.text);
        Events ev = new Events();
        for (int i = 0; i < in.count(); i++) {
            ev.clear();
            findMatches(in.text, m, in.start(i), in.end(i), ev);
            emit(ev, out);
        }
        return out;
    }

    /** HF's {@code Pattern::find_matches}: alternating (range, isMatch) events covering [from, to). */
    private void findMatches(String s, Matcher m, int from, int to, Events ev) {
        int prev = from;
        if (known != null) {
            for (int p = from; p < to; ) {
                int end = known.matchAt(s, p, to);
                if (end < 0) {
                    p += Character.charCount(s.codePointAt(p));
                    continue;
                }
                if (prev != p) {
                    ev.add(prev, p, invert);
                }
                ev.add(p, end, !invert);
                prev = end;
                p = end;
            }
        } else if (m != null) {
            m.region(from, to);
            while (m.find()) {
                if (prev != m.start()) {
                    ev.add(prev, m.start(), invert);
                }
                ev.add(m.start(), m.end(), !invert);
                prev = m.end();
            }
        }
        if (prev != to) {
            ev.add(prev, to, invert);
        }
    }

    /** HF's {@code NormalizedString::split} for this behavior. */
    private void emit(Events ev, Pieces out) {
        switch (behavior) {
            case ISOLATED:
                for (int k = 0; k < ev.n; k++) {
                    out.add(ev.start[k], ev.end[k]);
                }
                return;
            case REMOVED:
                for (int k = 0; k < ev.n; k++) {
                    if (!ev.match[k]) {
                        out.add(ev.start[k], ev.end[k]);
                    }
                }
                return;
            case CONTIGUOUS:
            case MERGED_WITH_PREVIOUS:
                mergeForward(ev, out);
                return;
            case MERGED_WITH_NEXT:
                mergeBackward(ev, out);
                return;
            default:
                throw new IllegalStateException("unhandled behavior " + behavior);
        }
    }

    private void mergeForward(Events ev, Pieces out) {
        Events acc = new Events();
        boolean previousMatch = false;
        for (int k = 0; k < ev.n; k++) {
            boolean m = ev.match[k];
            boolean extend = behavior == SplitBehavior.CONTIGUOUS ? m == previousMatch : m && !previousMatch;
            if (extend && acc.n > 0) {
                acc.end[acc.n - 1] = ev.end[k];
            } else {
                acc.add(ev.start[k], ev.end[k], false);
            }
            previousMatch = m;
        }
        for (int k = 0; k < acc.n; k++) {
            out.add(acc.start[k], acc.end[k]);
        }
    }

    private static void mergeBackward(Events ev, Pieces out) {
        Events acc = new Events();
        boolean previousMatch = false;
        for (int k = ev.n - 1; k >= 0; k--) {
            boolean m = ev.match[k];
            if (m && !previousMatch && acc.n > 0) {
                acc.start[acc.n - 1] = ev.start[k];
            } else {
                acc.add(ev.start[k], ev.end[k], false);
            }
            previousMatch = m;
        }
        for (int k = acc.n - 1; k >= 0; k--) {
            out.add(acc.start[k], acc.end[k]);
        }
    }

    @Override
    ObjectNode toJson(JsonNodeFactory f) {
        ObjectNode n = f.objectNode();
        n.put("type", "Split");
        n.putObject("pattern").put(isRegex ? "Regex" : "String", source);
        n.put("behavior", behavior.jsonName());
        n.put("invert", invert);
        return n;
    }

    /** A growable list of (start, end, isMatch) events. */
    private static final class Events {
        private static final int INITIAL_CAPACITY = 16;
        int[] start = new int[INITIAL_CAPACITY];
        int[] end = new int[INITIAL_CAPACITY];
        boolean[] match = new boolean[INITIAL_CAPACITY];
        int n;

        void clear() {
            n = 0;
        }

        void add(int s, int e, boolean m) {
            if (n == start.length) {
                start = Arrays.copyOf(start, 2 * n);
                end = Arrays.copyOf(end, 2 * n);
                match = Arrays.copyOf(match, 2 * n);
            }
            start[n] = s;
            end[n] = e;
            match[n] = m;
            n++;
        }
    }
}
