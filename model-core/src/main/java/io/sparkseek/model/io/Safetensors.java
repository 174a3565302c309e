package io.sparkseek.model.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict reader and atomic writer of the safetensors format, spec §9.1 ([ST] README and {@code tensor.rs}).
 *
 * <p>Layout: 8-byte little-endian header length {@code N}; {@code N} bytes of UTF-8 JSON starting with
 * {@code '{'} (trailing JSON whitespace allowed, the writer pads with spaces to a multiple of 8); then the data
 * buffer. The reader accepts what the reference Rust reader accepts and rejects everything else with a
 * {@link SafetensorsException} naming the file and the exact problem: header length over 100,000,000 bytes or past
 * the end of the file, invalid UTF-8/JSON, a {@code __metadata__} that is not a string→string map, duplicate
 * names (or duplicate fields inside an entry), unknown dtypes, negative or non-integer dimensions, a byte span
 * that differs from {@code numel × dtype size}, holes or overlaps between the offsets (sorted, they must cover
 * the buffer contiguously from 0), and a file size different from {@code 8 + N + buffer end}. Zero-size and
 * 0-rank tensors are allowed. Unknown fields inside a tensor entry are ignored, as in the reference reader.
 *
 * <p>The writer emits {@code "__metadata__": {"format": "pt"}} (needed by older transformers) merged with the
 * caller's metadata, writes tensors contiguously in the given order, and replaces the target atomically
 * ({@link AtomicFiles}).
 */
public final class Safetensors {

    /** Largest header the reader accepts, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The reserved header key holding the string→string metadata. */
    public static final String METADATA_KEY = "__metadata__";
    /** Header length is padded to a multiple of this by the writer. */
    static final int HEADER_ALIGN = 8;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory JSON = MAPPER.getFactory();

    private Safetensors() {
    }

    /** Opens and fully validates {@code file}; the tensors are read on demand. */
    public static SafetensorsFile open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(file, "file is " + size
                        + " bytes, too short for the 8-byte header length (truncated or not a safetensors file)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(file, ch, lenBuf, 0, "the header length");
            long n = lenBuf.flip().getLong();
            if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
                throw new SafetensorsException(file, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (corrupt or not a safetensors file)");
            }
            if (n > size - 8) {
                throw new SafetensorsException(file, "header length " + n + " runs past the end of the file ("
                        + size + " bytes, so at most " + (size - 8) + " header bytes): file truncated or corrupt");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(file, ch, headerBuf, 8, "the header");
            Header h = parseHeader(file, headerBuf.array());
            long dataStart = 8 + n;
            long expectedSize = dataStart + h.bufferEnd;
            if (expectedSize > size) {
                throw new SafetensorsException(file, "file is truncated: header (" + n + " bytes) and data buffer ("
                        + h.bufferEnd + " bytes) need " + expectedSize + " bytes but the file has " + size
                        + " (missing " + (expectedSize - size) + ")");
            }
            if (expectedSize < size) {
                throw new SafetensorsException(file, (size - expectedSize)
                        + " trailing bytes after the end of the data buffer at file offset " + expectedSize
                        + " (file size " + size + "); the header does not describe them");
            }
            return new SafetensorsFile(file, ch, dataStart, h.tensors, h.metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    static void readFully(Path file, FileChannel ch, ByteBuffer dst, long position, String what)
            throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new SafetensorsException(file, "unexpected end of file at offset " + pos + " while reading "
                        + what + " (was the file truncated after it was opened?)");
            }
            pos += r;
        }
    }

    /** Parsed and validated header. */
    record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata, long bufferEnd) {
    }

    static Header parseHeader(Path file, byte[] header) throws SafetensorsException {
        if (header.length == 0 || header[0] != '{') {
            throw new SafetensorsException(file, "header must be a JSON object starting with '{' but "
                    + (header.length == 0 ? "it is empty" : String.format("starts with byte 0x%02X", header[0] & 0xFF))
                    + " (not a safetensors file?)");
        }
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(file, "header is not valid UTF-8: " + e);
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        boolean sawMetadata = false;
        try (JsonParser p = JSON.createParser(json)) {
            p.nextToken(); // START_OBJECT, checked above
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (name.equals(METADATA_KEY)) {
                    if (sawMetadata) {
                        throw new SafetensorsException(file, "duplicate \"" + METADATA_KEY + "\" in the header");
                    }
                    sawMetadata = true;
                    parseMetadata(file, p, metadata);
                } else {
                    if (tensors.containsKey(name)) {
                        throw new SafetensorsException(file, "duplicate tensor name '" + name + "' in the header");
                    }
                    tensors.put(name, parseEntry(file, p, name));
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new SafetensorsException(file, "header is not valid JSON: unexpected " + t);
            }
            int after = (int) p.currentLocation().getCharOffset();
            for (int i = after; i < json.length(); i++) {
                char c = json.charAt(i);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    throw new SafetensorsException(file, "header has unexpected characters after its JSON object"
                            + " at character " + i + " (only space padding is allowed)");
                }
            }
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(file, "header is not valid JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new SafetensorsException(file, "cannot parse the header: " + e.getMessage(), e);
        }
        long end = checkCoverage(file, tensors);
        return new Header(tensors, metadata, end);
    }

    private static void parseMetadata(Path file, JsonParser p, Map<String, String> out) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new SafetensorsException(file, "\"" + METADATA_KEY + "\" must be an object of strings, got "
                    + p.currentToken());
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING) {
                throw new SafetensorsException(file, "\"" + METADATA_KEY + "\" value of key '" + key
                        + "' must be a string (metadata is a flat string→string map), got " + v);
            }
            if (out.put(key, p.getText()) != null) {
                throw new SafetensorsException(file, "duplicate key '" + key + "' in \"" + METADATA_KEY + "\"");
            }
        }
    }

    private static TensorInfo parseEntry(Path file, JsonParser p, String name) throws IOException {
        String where = "tensor '" + name + "'";
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new SafetensorsException(file, where + " must be an object with dtype, shape and data_offsets,"
                    + " got " + p.currentToken());
        }
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> seen = new HashSet<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            if (!seen.add(field)) {
                throw new SafetensorsException(file, where + " has a duplicate field \"" + field + "\"");
            }
            switch (field) {
                case "dtype" -> {
                    if (v != JsonToken.VALUE_STRING) {
                        throw new SafetensorsException(file, where + " dtype must be a string, got " + v);
                    }
                    dtypeName = p.getText();
                }
                case "shape" -> shape = readLongs(file, p, where + " shape");
                case "data_offsets" -> offsets = readLongs(file, p, where + " data_offsets");
                default -> p.skipChildren(); // ignored, like the reference reader
            }
        }
        if (dtypeName == null || shape == null || offsets == null) {
            String missing = dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw new SafetensorsException(file, where + " has no \"" + missing + "\"");
        }
        Dtype dtype = Dtype.fromHeader(dtypeName);
        if (dtype == null) {
            throw new SafetensorsException(file, where + " has unknown dtype \"" + dtypeName + "\"; known: "
                    + Arrays.toString(Dtype.values()));
        }
        if (offsets.length != 2) {
            throw new SafetensorsException(file, where + " data_offsets must be [begin, end], got "
                    + Arrays.toString(offsets));
        }
        if (offsets[1] < offsets[0]) {
            throw new SafetensorsException(file, where + " data_offsets [" + offsets[0] + "," + offsets[1]
                    + "] end before they begin");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(TensorData.numel(shape), dtype.size());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(file, where + " shape " + Arrays.toString(shape) + " is too large");
        }
        long span = offsets[1] - offsets[0];
        if (span != bytes) {
            throw new SafetensorsException(file, where + " (" + dtype + ", shape " + Arrays.toString(shape)
                    + ") needs " + bytes + " bytes but data_offsets [" + offsets[0] + "," + offsets[1] + "] span "
                    + span);
        }
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] readLongs(Path file, JsonParser p, String what) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new SafetensorsException(file, what + " must be an array of non-negative integers, got "
                    + p.currentToken());
        }
        List<Long> values = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw new SafetensorsException(file, what + " must hold non-negative integers, got "
                        + (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT
                            || t == JsonToken.VALUE_STRING ? p.getText() : t.toString()));
            }
            values.add(p.getLongValue());
        }
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /** Sorted by offsets, the tensors must tile [0, end) with no hole and no overlap; returns end. */
    private static long checkCoverage(Path file, Map<String, TensorInfo> tensors) throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            String span = "data_offsets [" + t.begin() + "," + t.end() + "]";
            if (t.begin() < expected) {
                throw new SafetensorsException(file, "tensor '" + t.name() + "' " + span
                        + " overlap previous tensor '" + previous + "' ending at " + expected);
            }
            if (t.begin() > expected) {
                throw new SafetensorsException(file, "hole in the data buffer: bytes [" + expected + ","
                        + t.begin() + ") belong to no tensor (before tensor '" + t.name() + "' " + span
                        + (previous == null ? "" : ", after tensor '" + previous + "'") + ")");
            }
            expected = t.end();
            previous = t.name();
        }
        return expected;
    }

    /**
     * Writes {@code tensors} (in this order, contiguously) to {@code file}, atomically.
     *
     * @param metadata extra {@code __metadata__} entries, may be null; {@code "format": "pt"} is added unless the
     *                 caller sets {@code format} itself
     */
    public static void write(Path file, List<TensorData> tensors, Map<String, String> metadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        if (metadata != null) {
            meta.putAll(metadata);
        }
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode metaNode = root.putObject(METADATA_KEY);
        meta.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException(file + ": metadata keys and values must not be null");
            }
            metaNode.put(k, v);
        });
        long offset = 0;
        for (TensorData t : tensors) {
            if (root.has(t.name())) {
                throw new IllegalArgumentException(file + ": duplicate tensor name '" + t.name()
                        + "'; every tensor in a file needs a unique name");
            }
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name());
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.data().length;
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = MAPPER.writeValueAsBytes(root);
        int padded = (json.length + HEADER_ALIGN - 1) / HEADER_ALIGN * HEADER_ALIGN;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            for (TensorData t : tensors) {
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(t.data()));
            }
        });
    }
}
