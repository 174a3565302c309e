package io.sparkseek.data.shard;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * {@code manifest.json} ⇄ {@link Manifest}. Output is byte-deterministic: fixed key order, 2-space indent,
 * {@code \n} line ends, a trailing newline, no timestamps. Input is strict: every field present with its
 * type, no unknown or duplicate keys; errors name the field (the caller adds the file).
 */
final class ManifestJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final List<String> TOP_KEYS = List.of("format", "seq_len", "vocab_size", "tokenizer",
            "tokenizer_sha256", "bos_id", "eos_id", "pad_id", "splits", "sources", "runs", "dedup_index", "settings");

    private ManifestJson() {}

    static byte[] write(Manifest m) {
        ObjectNode root = NODES.objectNode();
        root.put("format", m.format());
        root.put("seq_len", m.seqLen());
        root.put("vocab_size", m.vocabSize());
        root.put("tokenizer", m.tokenizer());
        root.put("tokenizer_sha256", m.tokenizerSha256());
        root.put("bos_id", m.bosId());
        root.put("eos_id", m.eosId());
        root.put("pad_id", m.padId());
        ObjectNode splits = root.putObject("splits");
        m.splits().forEach((split, shards) -> {
            ArrayNode a = splits.putArray(split);
            for (ShardInfo s : shards) {
                ObjectNode o = a.addObject();
                o.put("path", s.path());
                o.put("sequences", s.sequences());
                o.put("tokens", s.tokens());
                o.put("bytes", s.bytes());
                o.put("sha256", s.sha256());
            }
        });
        ArrayNode sources = root.putArray("sources");
        for (SourceInfo s : m.sources()) {
            ObjectNode o = sources.addObject();
            o.put("uri", s.uri());
            o.put("size", s.size());
            o.put("modified", s.modified());
            o.put("docs", s.docs());
        }
        ArrayNode runs = root.putArray("runs");
        for (RunInfo r : m.runs()) {
            ObjectNode o = runs.addObject();
            o.put("index", r.index());
            o.put("sources", r.sources());
            ObjectNode stats = o.putObject("stats");
            r.stats().forEach(stats::put);
        }
        ArrayNode index = root.putArray("dedup_index");
        for (ShardInfo s : m.dedupIndex()) {
            ObjectNode o = index.addObject();
            o.put("path", s.path());
            o.put("count", s.count());
            o.put("bytes", s.bytes());
            o.put("sha256", s.sha256());
        }
        ObjectNode settings = root.putObject("settings");
        m.settings().forEach(settings::put);
        try {
            String text = MAPPER.writer(prettyPrinter()).writeValueAsString(root);
            return (text + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not serialise the manifest: " + e.getMessage(), e);
        }
    }

    /** Parses and validates; IllegalArgumentException names the offending field. */
    static Manifest read(byte[] json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the top level must be a JSON object");
        }
        String format = text(root, "format", "");
        if (!Manifest.FORMAT.equals(format)) {
            throw new IllegalArgumentException("format is '" + format + "'; this build reads only '"
                    + Manifest.FORMAT + "' (prepare the data again with this build, or use the build that wrote it)");
        }
        onlyKeys(root, Set.copyOf(TOP_KEYS), "");
        JsonNode splitsNode = object(root, "splits", "");
        Map<String, List<ShardInfo>> splits = new LinkedHashMap<>();
        for (Iterator<String> it = splitsNode.fieldNames(); it.hasNext(); ) {
            String split = it.next();
            splits.put(split, list(splitsNode, split, "splits", ManifestJson::shard));
        }
        return new Manifest(format,
                integer(root, "seq_len", ""),
                integer(root, "vocab_size", ""),
                text(root, "tokenizer", ""),
                text(root, "tokenizer_sha256", ""),
                integer(root, "bos_id", ""),
                integer(root, "eos_id", ""),
                integer(root, "pad_id", ""),
                splits,
                list(root, "sources", "", ManifestJson::source),
                list(root, "runs", "", ManifestJson::run),
                list(root, "dedup_index", "", ManifestJson::indexEntry),
                stringMap(object(root, "settings", ""), "settings"));
    }

    private static ShardInfo shard(JsonNode n, String where) {
        onlyKeys(n, Set.of("path", "sequences", "tokens", "bytes", "sha256"), where);
        return wrap(where, () -> new ShardInfo(text(n, "path", where), longValue(n, "sequences", where),
                longValue(n, "tokens", where), longValue(n, "bytes", where), text(n, "sha256", where)));
    }

    private static ShardInfo indexEntry(JsonNode n, String where) {
        onlyKeys(n, Set.of("path", "count", "bytes", "sha256"), where);
        return wrap(where, () -> new ShardInfo(text(n, "path", where), longValue(n, "count", where), 0,
                longValue(n, "bytes", where), text(n, "sha256", where)));
    }

    private static SourceInfo source(JsonNode n, String where) {
        onlyKeys(n, Set.of("uri", "size", "modified", "docs"), where);
        return wrap(where, () -> new SourceInfo(text(n, "uri", where), longValue(n, "size", where),
                longValue(n, "modified", where), longValue(n, "docs", where)));
    }

    private static RunInfo run(JsonNode n, String where) {
        onlyKeys(n, Set.of("index", "sources", "stats"), where);
        JsonNode statsNode = object(n, "stats", where);
        Map<String, Long> stats = new LinkedHashMap<>();
        statsNode.fields().forEachRemaining(e -> stats.put(e.getKey(),
                longValue(statsNode, e.getKey(), where + ".stats")));
        return wrap(where, () -> new RunInfo(integer(n, "index", where), integer(n, "sources", where), stats));
    }

    private static <T> T wrap(String where, java.util.function.Supplier<T> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("field ")) {
                throw e;
            }
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, String> stringMap(JsonNode n, String where) {
        Map<String, String> map = new LinkedHashMap<>();
        n.fieldNames().forEachRemaining(k -> map.put(k, text(n, k, where)));
        return map;
    }

    private static <T> List<T> list(JsonNode parent, String key, String where,
            BiFunction<JsonNode, String, T> element) {
        String at = qualify(where, key);
        JsonNode a = field(parent, key, at);
        if (!a.isArray()) {
            throw wrongType(at, "an array", a);
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            JsonNode e = a.get(i);
            String elementAt = at + "[" + i + "]";
            if (!e.isObject()) {
                throw wrongType(elementAt, "an object", e);
            }
            out.add(element.apply(e, elementAt));
        }
        return out;
    }

    private static JsonNode object(JsonNode parent, String key, String where) {
        String at = qualify(where, key);
        JsonNode n = field(parent, key, at);
        if (!n.isObject()) {
            throw wrongType(at, "an object", n);
        }
        return n;
    }

    private static String text(JsonNode parent, String key, String where) {
        String at = qualify(where, key);
        JsonNode n = field(parent, key, at);
        if (!n.isTextual()) {
            throw wrongType(at, "a string", n);
        }
        return n.textValue();
    }

    private static long longValue(JsonNode parent, String key, String where) {
        String at = qualify(where, key);
        JsonNode n = field(parent, key, at);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw wrongType(at, "an integer", n);
        }
        return n.longValue();
    }

    private static int integer(JsonNode parent, String key, String where) {
        String at = qualify(where, key);
        JsonNode n = field(parent, key, at);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw wrongType(at, "a 32-bit integer", n);
        }
        return n.intValue();
    }

    private static JsonNode field(JsonNode parent, String key, String at) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("field " + at + " is missing");
        }
        return n;
    }

    private static void onlyKeys(JsonNode n, Set<String> allowed, String where) {
        n.fieldNames().forEachRemaining(k -> {
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException("field " + qualify(where, k) + " is not part of " + Manifest.FORMAT);
            }
        });
    }

    private static String qualify(String where, String key) {
        return where.isEmpty() ? key : where + "." + key;
    }

    private static IllegalArgumentException wrongType(String at, String expected, JsonNode got) {
        return new IllegalArgumentException("field " + at + " must be " + expected + ", got " + got.getNodeType()
                .toString().toLowerCase(java.util.Locale.ROOT) + " " + abbreviate(got.toString()));
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    private static DefaultPrettyPrinter prettyPrinter() {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        Separators separators = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        return new DefaultPrettyPrinter(separators).withObjectIndenter(indenter).withArrayIndenter(indenter);
    }
}
