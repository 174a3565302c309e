package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte-level BPE tokenizer that reads and writes HF tokenizers' {@code tokenizer.json} and encodes exactly as HF's
 * {@code Tokenizer::encode} does (spec §10): added tokens are found in the raw text first ({@link AddedVocabulary});
 * the text between them is normalized ({@link TextNormalizer}), split by the pre-tokenizer ({@link PreTokenizer},
 * which must end with {@code ByteLevel}), each piece's UTF-8 bytes are BPE-encoded ({@link BpeModel}); the
 * post-processor ({@link PostProcessor}) then adds its special ids when asked. Decoding follows HF's {@code ByteLevel}
 * decoder with {@code skip_special_tokens=false}.
 *
 * <p>Immutable and thread-safe; piece encodings are memoised in a bounded per-instance concurrent cache.
 */
public final class BpeTokenizer {
    /** DeepSeek-V3's BOS (spec §10; id 0). Note U+FF5C and U+2581. */
    public static final String BOS_TOKEN = "<｜begin▁of▁sentence｜>";
    /** DeepSeek-V3's EOS (id 1). */
    public static final String EOS_TOKEN = "<｜end▁of▁sentence｜>";
    /** DeepSeek-V3's PAD (id 2). */
    public static final String PAD_TOKEN = "<｜▁pad▁｜>";
    /** tokenizer_config.json's model_max_length (spec §10: the R1 release's 16384). */
    public static final int DEFAULT_MODEL_MAX_LENGTH = 16384;

    /** Pieces cached per instance before the cache is cleared. */
    private static final int MAX_CACHE_ENTRIES = 1 << 16;
    /** Longer pieces are rare and are not cached. */
    private static final int MAX_CACHED_PIECE_CHARS = 64;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final BpeModel model;
    private final PreTokenizer preTokenizer;
    private final TextNormalizer normalizer;
    private final PostProcessor postProcessor;
    private final JsonNode decoderJson;
    private final List<AddedToken> addedTokens;
    private final AddedVocabulary rawAdded;
    private final AddedVocabulary normalizedAdded;
    private final Map<String, Integer> addedIds;
    /** Token text by id (added tokens over model tokens), and the bytes each id decodes to. */
    private final String[] tokens;
    private final byte[][] tokenBytes;
    /** The id of each byte's single-byte token. */
    private final int[] byteIds = new int[ByteLevel.BYTE_COUNT];
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BpeTokenizer(BpeModel model, PreTokenizer preTokenizer, TextNormalizer normalizer, PostProcessor postProcessor,
            JsonNode decoderJson, List<AddedToken> addedTokens) {
        if (preTokenizer.finalByteLevel() == null) {
            throw new IllegalArgumentException("pre_tokenizer must end with a ByteLevel step: only byte-level BPE is "
                    + "supported (got " + preTokenizer.toJson(JsonNodeFactory.instance) + ")");
        }
        checkAddedIds(model, addedTokens);
        this.model = model;
        this.preTokenizer = preTokenizer;
        this.normalizer = normalizer;
        this.postProcessor = postProcessor;
        this.decoderJson = decoderJson.deepCopy();
        List<AddedToken> sorted = new ArrayList<>(addedTokens);
        sorted.sort(Comparator.comparingInt(AddedToken::id));
        this.addedTokens = List.copyOf(sorted);
        this.rawAdded = new AddedVocabulary(sorted.stream().filter(t -> !t.normalized()).toList(), s -> s);
        this.normalizedAdded = new AddedVocabulary(sorted.stream().filter(AddedToken::normalized).toList(),
                normalizer::apply);
        Map<String, Integer> ids = new HashMap<>();
        int size = model.size();
        for (AddedToken t : sorted) {
            ids.put(t.content(), t.id());
            size = Math.max(size, t.id() + 1);
        }
        this.addedIds = Map.copyOf(ids);
        this.tokens = new String[size];
        this.tokenBytes = new byte[size][];
        ByteLevel bl = ByteLevel.table();
        for (int id = 0; id < size; id++) {
            tokens[id] = model.token(id);
        }
        // HF's id -> token for a normalized added token is its normalized content (so decode emits that text)
        sorted.forEach(t -> tokens[t.id()] = t.normalized() ? normalizer.apply(t.content()) : t.content());
        for (int id = 0; id < size; id++) {
            tokenBytes[id] = tokens[id] == null ? null : bl.decodeToken(tokens[id]);
        }
        for (int b = 0; b < ByteLevel.BYTE_COUNT; b++) {
            Integer id = model.id(String.valueOf(bl.charOf(b)));
            if (id == null) {
                throw new IllegalArgumentException("model.vocab lacks the byte-level token for byte 0x"
                        + Integer.toHexString(b) + " ('" + bl.charOf(b) + "'); a byte-level BPE vocabulary needs all 256");
            }
            byteIds[b] = id;
        }
    }

    /**
     * HF ignores the ids written in added_tokens: a token in the model vocabulary gets its model id, any other the next
     * id after the model vocabulary and the added tokens before it. Ids that HF would not reproduce are an error here,
     * since encodings would silently differ.
     */
    private static void checkAddedIds(BpeModel model, List<AddedToken> addedTokens) {
        Map<String, Integer> assigned = new HashMap<>();
        int modelCount = model.tokenCount();
        int maxAdded = -1;
        for (AddedToken t : addedTokens) {
            Integer hfId = model.id(t.content());
            if (hfId == null) {
                hfId = assigned.get(t.content());
            }
            if (hfId == null) {
                hfId = maxAdded >= modelCount ? maxAdded + 1 : modelCount;
                assigned.put(t.content(), hfId);
            }
            maxAdded = Math.max(maxAdded, hfId);
            if (hfId != t.id()) {
                throw new IllegalArgumentException("added token '" + t.content() + "' has id " + t.id()
                        + " but HF tokenizers would give it id " + hfId + " (its model id, or the next id after the "
                        + modelCount + " model tokens and the added tokens listed before it); renumber added_tokens");
            }
        }
    }

    // ---------------------------------------------------------------- loading and saving

    /** Parses a tokenizer.json document. */
    public static BpeTokenizer fromJson(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("tokenizer.json is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("tokenizer.json must be a JSON object, got: " + Json.abbreviate(root));
        }
        requireNullField(root, "truncation");
        requireNullField(root, "padding");
        List<AddedToken> added = new ArrayList<>();
        JsonNode at = root.get("added_tokens");
        if (at != null && !at.isNull()) {
            if (!at.isArray()) {
                throw new IllegalArgumentException("tokenizer.json \"added_tokens\" must be an array, got: "
                        + Json.abbreviate(at));
            }
            at.forEach(n -> added.add(AddedToken.fromJson(n)));
        }
        JsonNode pre = root.get("pre_tokenizer");
        if (pre == null || pre.isNull()) {
            throw new IllegalArgumentException("tokenizer.json has no pre_tokenizer; a byte-level BPE needs one ending "
                    + "with ByteLevel");
        }
        JsonNode decoder = root.get("decoder");
        if (decoder == null || !decoder.isObject() || !"ByteLevel".equals(decoder.path("type").asText())) {
            throw new IllegalArgumentException("unsupported decoder " + Json.abbreviate(decoder)
                    + "; only {\"type\": \"ByteLevel\"} is supported");
        }
        return new BpeTokenizer(BpeModel.fromJson(root.get("model")), PreTokenizer.fromJson(pre),
                TextNormalizer.fromJson(root.get("normalizer")), PostProcessor.fromJson(root.get("post_processor")),
                decoder, added);
    }

    private static void requireNullField(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v != null && !v.isNull()) {
            throw new IllegalArgumentException("tokenizer.json \"" + field + "\" is set (" + Json.abbreviate(v)
                    + ") but not supported; set it to null and truncate/pad in the data pipeline");
        }
    }

    /** Reads a tokenizer.json file. */
    public static BpeTokenizer load(Path path) {
        String json;
        try {
            json = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer file " + path + ": " + e, e);
        }
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }

    /** The complete tokenizer.json (HF tokenizers loads it; vocab in id order). */
    public String toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode at = root.putArray("added_tokens");
        addedTokens.forEach(t -> at.add(t.toJson(f)));
        root.set("normalizer", normalizer.toJson());
        root.set("pre_tokenizer", preTokenizer.toJson(f));
        root.set("post_processor", postProcessor.toJson());
        root.set("decoder", decoderJson.deepCopy());
        root.set("model", model.toJson(f));
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize tokenizer.json", e);
        }
    }

    /**
     * tokenizer_config.json for transformers. Per spec §10's pitfall the class is {@code PreTrainedTokenizerFast} (a
     * Llama class would replace the ByteLevel pre-tokenizer and decoder with Metaspace); BOS is added by tokenizer.json's
     * post-processor, add_bos_token is only informative.
     */
    public String tokenizerConfigJson() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("bos_token", tokens[bosId()]);
        c.put("eos_token", tokens[eosId()]);
        c.put("pad_token", tokens[padId()]);
        c.putNull("unk_token");
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", DEFAULT_MODEL_MAX_LENGTH);
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize tokenizer_config.json", e);
        }
    }

    // ---------------------------------------------------------------- encoding

    /** HF {@code encode(text, add_special_tokens)}: added tokens matched in the text, then the full pipeline. */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList(text.length() / 2 + 1);
        for (AddedVocabulary.Span raw : rawAdded.split(text)) {
            if (raw.id() >= 0) {
                out.add(raw.id());
                continue;
            }
            String normalized = normalizer.apply(text.substring(raw.start(), raw.end()));
            for (AddedVocabulary.Span s : normalizedAdded.split(normalized)) {
                if (s.id() >= 0) {
                    out.add(s.id());
                } else {
                    encodeSegment(normalized.substring(s.start(), s.end()), out);
                }
            }
        }
        int[] ids = out.toArray();
        return addSpecialTokens ? postProcessor.addSpecialTokens(ids) : ids;
    }

    /** Corpus encoding: no added-token matching (a literal EOS string stays text), no post-processor. */
    public int[] encodeOrdinary(String text) {
        IntList out = new IntList(text.length() / 2 + 1);
        encodeSegment(normalizer.apply(text), out);
        return out.toArray();
    }

    /**
     * Ordinary encoding of arbitrary bytes: each maximal valid UTF-8 run is pre-tokenized and encoded (no normalizer);
     * each byte that starts no valid sequence becomes its own single-byte token, so
     * {@code decodeBytes(encodeBytes(b))} equals {@code b} for every byte array.
     */
    public int[] encodeBytes(byte[] bytes) {
        IntList out = new IntList(bytes.length / 2 + 1);
        int runStart = 0;
        int i = 0;
        while (i < bytes.length) {
            int len = Utf8.validSequenceLength(bytes, i, bytes.length);
            if (len > 0) {
                i += len;
                continue;
            }
            if (runStart < i) {
                encodeSegment(new String(bytes, runStart, i - runStart, StandardCharsets.UTF_8), out);
            }
            out.add(byteIds[bytes[i] & 0xFF]);
            i++;
            runStart = i;
        }
        if (runStart < bytes.length) {
            encodeSegment(new String(bytes, runStart, bytes.length - runStart, StandardCharsets.UTF_8), out);
        }
        return out.toArray();
    }

    private void encodeSegment(String text, IntList out) {
        if (text.isEmpty()) {
            return;
        }
        Pieces p = preTokenizer.apply(Pieces.whole(text));
        for (int i = 0; i < p.count(); i++) {
            out.addAll(encodePiece(p.piece(i)));
        }
    }

    private int[] encodePiece(String piece) {
        int[] ids = cache.get(piece);
        if (ids != null) {
            return ids;
        }
        byte[] b = piece.getBytes(StandardCharsets.UTF_8);
        ids = model.encodeWord(b, 0, b.length);
        if (piece.length() <= MAX_CACHED_PIECE_CHARS) {
            if (cache.size() >= MAX_CACHE_ENTRIES) {
                cache.clear();
            }
            cache.put(piece, ids);
        }
        return ids;
    }

    // ---------------------------------------------------------------- decoding

    /** HF {@code decode(ids, skip_special_tokens=false)}; invalid UTF-8 becomes U+FFFD; unknown ids are skipped. */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    /** The bytes the ids stand for (added tokens as their UTF-8 content); unknown ids are skipped, as HF does. */
    public byte[] decodeBytes(int[] ids) {
        int n = 0;
        for (int id : ids) {
            n += id >= 0 && id < tokenBytes.length && tokenBytes[id] != null ? tokenBytes[id].length : 0;
        }
        byte[] out = new byte[n];
        int k = 0;
        for (int id : ids) {
            if (id >= 0 && id < tokenBytes.length && tokenBytes[id] != null) {
                System.arraycopy(tokenBytes[id], 0, out, k, tokenBytes[id].length);
                k += tokenBytes[id].length;
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- vocabulary

    /** One past the largest id (model or added token). */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token string (added tokens first, as HF looks them up), if any. */
    public OptionalInt tokenToId(String token) {
        Integer id = addedIds.get(token);
        if (id == null) {
            id = model.id(token);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of an id (byte-level alphabet for model tokens, content for added tokens). */
    public String idToToken(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("no token has id " + id + " (vocabSize " + tokens.length + ")");
        }
        return tokens[id];
    }

    public int bosId() {
        return specialId(BOS_TOKEN, "BOS");
    }

    public int eosId() {
        return specialId(EOS_TOKEN, "EOS");
    }

    public int padId() {
        return specialId(PAD_TOKEN, "PAD");
    }

    private int specialId(String content, String role) {
        Integer id = addedIds.get(content);
        if (id == null) {
            throw new IllegalStateException("this tokenizer has no " + role + " added token '" + content
                    + "'; train it with TrainerOptions.defaults(...) or add the token to added_tokens");
        }
        return id;
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    /** The added tokens, by id. */
    public List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** Number of merges of the BPE model. */
    public int mergeCount() {
        return model.mergeCount();
    }

    /** A growable int array. */
    private static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[Math.max(1, capacity)];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(2 * a.length, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
