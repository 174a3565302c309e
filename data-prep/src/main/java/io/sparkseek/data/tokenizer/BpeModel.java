package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The byte-level BPE model of tokenizer.json ({@code "model": {"type": "BPE", ...}}): a vocabulary and ranked merges.
 * A piece's bytes start as one byte-symbol each; the adjacent pair with the lowest merge rank is merged first, the
 * leftmost on ties, until no adjacent pair has a merge (HF's {@code Word::merge_all}, a min-heap on (rank, position)
 * with stale entries skipped). With {@code ignore_merges}, a piece that is itself in the vocabulary is that one token.
 * Unsupported options ({@code dropout}, {@code continuing_subword_prefix}, {@code end_of_word_suffix},
 * {@code byte_fallback}) are errors naming the option. Immutable; {@link #encodeWord} is thread-safe.
 */
final class BpeModel {
    private final Map<String, Integer> vocab;
    /** Model tokens by id (null where the model has no token). */
    private final String[] tokens;
    private final int[] mergeLeft;
    private final int[] mergeRight;
    private final int[] mergeResult;
    private final PairRanks ranks;
    /** The id of each byte's single-character token, -1 when the vocabulary lacks it. */
    private final int[] byteIds = new int[ByteLevel.BYTE_COUNT];
    private final boolean ignoreMerges;
    private final String unkToken;
    private final int unkId;
    private final boolean fuseUnk;

    BpeModel(Map<String, Integer> vocab, List<String[]> merges, boolean ignoreMerges, String unkToken, boolean fuseUnk) {
        this.vocab = Map.copyOf(vocab);
        int maxId = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        this.tokens = new String[maxId + 1];
        vocab.forEach((t, id) -> {
            if (id < 0) {
                throw new IllegalArgumentException("model.vocab: token '" + t + "' has negative id " + id);
            }
            if (tokens[id] != null) {
                throw new IllegalArgumentException("model.vocab: id " + id + " is used by both '" + tokens[id] + "' and '" + t
                        + "'; every id must name one token");
            }
            tokens[id] = t;
        });
        int n = merges.size();
        mergeLeft = new int[n];
        mergeRight = new int[n];
        mergeResult = new int[n];
        for (int r = 0; r < n; r++) {
            String[] m = merges.get(r);
            mergeLeft[r] = idOrThrow(m[0], r);
            mergeRight[r] = idOrThrow(m[1], r);
            mergeResult[r] = idOrThrow(m[0] + m[1], r);
        }
        ranks = new PairRanks(mergeLeft, mergeRight);
        ByteLevel bl = ByteLevel.table();
        for (int b = 0; b < ByteLevel.BYTE_COUNT; b++) {
            byteIds[b] = vocab.getOrDefault(String.valueOf(bl.charOf(b)), -1);
        }
        this.ignoreMerges = ignoreMerges;
        this.unkToken = unkToken;
        this.fuseUnk = fuseUnk;
        if (unkToken != null && !vocab.containsKey(unkToken)) {
            throw new IllegalArgumentException("model.unk_token '" + unkToken + "' is not in model.vocab");
        }
        this.unkId = unkToken == null ? -1 : vocab.get(unkToken);
    }

    private int idOrThrow(String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("model.merges[" + rank + "] uses token '" + token
                    + "', which is not in model.vocab; the merges do not belong to this vocabulary");
        }
        return id;
    }

    static BpeModel fromJson(JsonNode m) {
        if (m == null || !m.isObject()) {
            throw new IllegalArgumentException("tokenizer.json needs a \"model\" object, got: " + m);
        }
        String type = m.has("type") ? Json.text(m, "type", "model") : "BPE";
        if (!type.equals("BPE")) {
            throw new IllegalArgumentException("unsupported model type '" + type + "'; only BPE is supported");
        }
        requireNull(m, "dropout");
        requireNull(m, "continuing_subword_prefix");
        requireNull(m, "end_of_word_suffix");
        if (Json.bool(m, "byte_fallback", false)) {
            throw new IllegalArgumentException("model.byte_fallback=true is not supported (byte-level BPE needs no fallback)");
        }
        JsonNode v = m.get("vocab");
        if (v == null || !v.isObject()) {
            throw new IllegalArgumentException("model.vocab must be an object of token -> id, got: " + Json.abbreviate(v));
        }
        Map<String, Integer> vocab = new HashMap<>(v.size() * 2);
        v.fields().forEachRemaining(e -> {
            if (!e.getValue().canConvertToInt()) {
                throw new IllegalArgumentException("model.vocab['" + e.getKey() + "'] must be an integer id, got: "
                        + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().intValue());
        });
        JsonNode mj = m.get("merges");
        if (mj == null || !mj.isArray()) {
            throw new IllegalArgumentException("model.merges is missing or not an array; a BPE tokenizer.json needs its "
                    + "merges as \"a b\" strings or [\"a\", \"b\"] pairs");
        }
        List<String[]> merges = new java.util.ArrayList<>(mj.size());
        for (int i = 0; i < mj.size(); i++) {
            merges.add(parseMerge(mj.get(i), i));
        }
        JsonNode unk = m.get("unk_token");
        String unkToken = unk == null || unk.isNull() ? null : unk.asText();
        return new BpeModel(vocab, merges, Json.bool(m, "ignore_merges", false), unkToken,
                Json.bool(m, "fuse_unk", false));
    }

    private static void requireNull(JsonNode m, String field) {
        JsonNode v = m.get(field);
        boolean harmless = v == null || v.isNull() || (field.equals("dropout") && v.isNumber() && v.doubleValue() == 0)
                || (v.isTextual() && v.asText().isEmpty());
        if (!harmless) {
            throw new IllegalArgumentException("model." + field + "=" + v + " is not supported; set it to null");
        }
    }

    private static String[] parseMerge(JsonNode n, int i) {
        if (n.isTextual()) {
            String[] parts = n.asText().split(" ", -1);
            if (parts.length != 2) {
                throw new IllegalArgumentException("model.merges[" + i + "] = '" + n.asText()
                        + "' must be two tokens separated by one space");
            }
            return parts;
        }
        if (n.isArray() && n.size() == 2 && n.get(0).isTextual() && n.get(1).isTextual()) {
            return new String[] {n.get(0).asText(), n.get(1).asText()};
        }
        throw new IllegalArgumentException("model.merges[" + i + "] must be \"a b\" or [\"a\", \"b\"], got: " + n);
    }

    ObjectNode toJson(JsonNodeFactory f) {
        ObjectNode m = f.objectNode();
        m.put("type", "BPE");
        m.putNull("dropout");
        if (unkToken == null) {
            m.putNull("unk_token");
        } else {
            m.put("unk_token", unkToken);
        }
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", fuseUnk);
        m.put("byte_fallback", false);
        m.put("ignore_merges", ignoreMerges);
        ObjectNode v = m.putObject("vocab");
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null) {
                v.put(tokens[id], id);
            }
        }
        ArrayNode mergesNode = m.putArray("merges");
        for (int r = 0; r < mergeLeft.length; r++) {
            mergesNode.add(tokens[mergeLeft[r]] + " " + tokens[mergeRight[r]]);
        }
        return m;
    }

    /** One past the largest model id. */
    int size() {
        return tokens.length;
    }

    /** Number of tokens in the vocabulary (HF's {@code get_vocab_size} for BPE). */
    int tokenCount() {
        return vocab.size();
    }

    Integer id(String token) {
        return vocab.get(token);
    }

    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    int mergeCount() {
        return mergeLeft.length;
    }

    /** Encodes one pre-token's UTF-8 bytes. */
    int[] encodeWord(byte[] bytes, int off, int len) {
        if (ignoreMerges) {
            Integer whole = vocab.get(ByteLevel.table().encode(Arrays.copyOfRange(bytes, off, off + len)));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int[] sym = new int[len];
        int n = 0;
        for (int i = 0; i < len; i++) {
            int id = byteIds[bytes[off + i] & 0xFF];
            if (id >= 0) {
                sym[n++] = id;
            } else if (unkId >= 0 && !(fuseUnk && n > 0 && sym[n - 1] == unkId)) {
                sym[n++] = unkId;
            }
        }
        return n <= 1 ? Arrays.copyOf(sym, n) : mergeAll(sym, n);
    }

    private static final int REMOVED = -1;

    private int[] mergeAll(int[] sym, int n) {
        int[] next = new int[n];
        int[] prev = new int[n];
        LongMinHeap heap = new LongMinHeap(n);
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            if (i + 1 < n) {
                push(heap, sym[i], sym[i + 1], i);
            }
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> Integer.SIZE);
            int pos = (int) top;
            if (sym[pos] == REMOVED || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            int current = ranks.rank(sym[pos], sym[right]);
            if (current < 0 || mergeResult[current] != mergeResult[rank]) {
                continue; // stale entry: a neighbour changed since it was pushed
            }
            sym[pos] = mergeResult[rank];
            sym[right] = REMOVED;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0) {
                push(heap, sym[prev[pos]], sym[pos], prev[pos]);
            }
            if (next[pos] >= 0) {
                push(heap, sym[pos], sym[next[pos]], pos);
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    private void push(LongMinHeap heap, int left, int right, int pos) {
        int r = ranks.rank(left, right);
        if (r >= 0) {
            heap.push(((long) r << Integer.SIZE) | pos);
        }
    }

    /** A binary min-heap of longs (rank in the high half, position in the low half). */
    private static final class LongMinHeap {
        private long[] a;
        private int size;

        LongMinHeap(int capacity) {
            a = new long[Math.max(1, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, 2 * size);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) {
                    break;
                }
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
