package io.sparkseek.model.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.fp8.Bf16;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writer round trip and strict-reader rejections for {@link Safetensors} (spec §9.1). */
class SafetensorsTest {

    @TempDir
    Path dir;

    private static long[] shape(long... dims) {
        return dims;
    }

    /** A file built by hand: 8-byte LE length, header text (not padded), then {@code data}. */
    private Path handMade(String name, String header, long declaredLength, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(h).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path handMade(String name, String header, byte[] data) throws IOException {
        return handMade(name, header, header.getBytes(StandardCharsets.UTF_8).length, data);
    }

    private static void assertRejected(Path p, String... fragments) {
        assertThatThrownBy(() -> Safetensors.open(p).close())
                .isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(p.toString() + ": ")
                .hasMessageContainingAll(fragments);
    }

    @Test
    void mixedDtypeRoundTripIsBitExact() throws IOException {
        float[] f32 = {1.5f, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN, 3.25f};
        float[] bf = {1.0f, Float.intBitsToFloat(0x3F818000), -7.75f, 1e-40f};
        float[] f16 = {1.0f, -65504f, 0x1p-24f};
        byte[] e4m3 = {0x38, (byte) 0xFE, 0x7F, 0x00};
        int[] i32 = {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE};
        long[] i64 = {Long.MIN_VALUE, 42L};
        List<TensorData> in = List.of(
                TensorData.f32("model.layers.0.mlp.gate.e_score_correction_bias", shape(2, 3), f32),
                TensorData.bf16("model.norm.weight", shape(4), bf),
                TensorData.f16("half", shape(3), f16),
                TensorData.f8e4m3("q.weight", shape(2, 2), e4m3),
                TensorData.i32("ints", shape(4), i32),
                TensorData.i64("longs", shape(1, 2), i64),
                TensorData.f32("scalar", shape(), new float[] {2.5f}),
                TensorData.f32("empty", shape(0, 5), new float[0]));
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, in, Map.of("step", "7"));

        try (SafetensorsFile f = Safetensors.open(p)) {
            assertThat(f.names()).containsExactly(in.stream().map(TensorData::name).toArray(String[]::new));
            for (TensorData t : in) {
                assertThat(f.info(t.name()).dtype()).isEqualTo(t.dtype());
                assertThat(f.info(t.name()).shape()).containsExactly(t.shape());
                assertThat(f.getBytes(t.name())).as(t.name()).containsExactly(t.data());
                assertThat(f.get(t.name())).isEqualTo(t);
            }
            float[] back = f.getFloats("model.layers.0.mlp.gate.e_score_correction_bias");
            for (int i = 0; i < f32.length; i++) {
                assertThat(Float.floatToRawIntBits(back[i])).isEqualTo(Float.floatToRawIntBits(f32[i]));
            }
            assertThat(f.getFloats("model.norm.weight")).containsExactly(Bf16.round(bf));
            assertThat(f.getBytes("model.norm.weight")).startsWith((byte) 0x80, (byte) 0x3F, (byte) 0x82);
            assertThat(f.getFloats("half")).containsExactly(f16);
            assertThat(f.getInts("ints")).containsExactly(i32);
            assertThat(f.getLongs("longs")).containsExactly(i64);
            assertThat(f.getFloats("scalar")).containsExactly(2.5f);
            assertThat(f.info("scalar").shape()).isEmpty();
            assertThat(f.getFloats("empty")).isEmpty();
            assertThat(f.metadata()).containsEntry("format", "pt").containsEntry("step", "7");
        }

        byte[] raw = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(n % 8).isZero();
        JsonNode header = new ObjectMapper().readTree(new String(raw, 8, (int) n, StandardCharsets.UTF_8));
        assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("pt");
        assertThat(header.get("model.norm.weight").get("data_offsets").toString()).isEqualTo("[24,32]");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(p); // no temporary file left behind
        }
    }

    @Test
    void writerReplacesExistingFileAndDefaultsMetadata() throws IOException {
        Path p = dir.resolve("a.safetensors");
        Safetensors.write(p, List.of(TensorData.f32("x", shape(1), new float[] {1f})), null);
        Safetensors.write(p, List.of(TensorData.f32("y", shape(2), new float[] {2f, 3f})), Map.of());
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertThat(f.names()).containsExactly("y");
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(f.getFloats("y")).containsExactly(2f, 3f);
        }
    }

    @Test
    void writerRejectsDuplicateNamesAndLeavesNothing() {
        Path p = dir.resolve("dup.safetensors");
        List<TensorData> ts = List.of(TensorData.f32("x", shape(1), new float[] {1f}),
                TensorData.f32("x", shape(1), new float[] {2f}));
        assertThatThrownBy(() -> Safetensors.write(p, ts, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate tensor name 'x'");
        assertThat(dir.toFile().list()).isEmpty();
    }

    @Test
    void failedWriteKeepsOldFileAndRemovesTemp() throws IOException {
        Path p = dir.resolve("keep.bin");
        Files.writeString(p, "old");
        assertThatThrownBy(() -> AtomicFiles.write(p, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(Files.readString(p)).isEqualTo("old");
        assertThat(dir.toFile().list()).containsExactly("keep.bin");
    }

    @Test
    void accessorsNameTheTensor() throws IOException {
        Path p = dir.resolve("b.safetensors");
        Safetensors.write(p, List.of(TensorData.i32("ids", shape(2), new int[] {1, 2})), null);
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertThatThrownBy(() -> f.getFloats("ids")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll(p.toString(), "tensor 'ids' has dtype I32", "getFloats");
            assertThatThrownBy(() -> f.getLongs("ids")).hasMessageContaining("tensor 'ids' has dtype I32");
            assertThatThrownBy(() -> f.info("nope")).hasMessageContainingAll(p.toString(), "no tensor 'nope'");
        }
    }

    @Test
    void acceptsValidHandMadeFileWithTrailingSpacesAndUnsortedOffsets() throws IOException {
        String h = "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
                + "\"a\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                + "\"z\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[4,4]}}   ";
        Path p = handMade("ok.safetensors", h, new byte[] {1, 2, 3, 4});
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertThat(f.names()).containsExactly("b", "a", "z");
            assertThat(f.getBytes("b")).containsExactly(3, 4);
            assertThat(f.metadata()).isEmpty();
        }
    }

    @Test
    void readsTensorsBeyondTwoGigabytes() throws IOException {
        long big = 3_000_000_000L; // sparse: no disk space is used for the zeros
        String h = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[" + big + "," + (big + 4) + "]}}";
        Path p = handMade("sparse.safetensors", h, new byte[0]);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x78, 0x56, 0x34, 0x12}), ch.size() + big);
        }
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertThat(f.getInts("tail")).containsExactly(0x12345678);
            assertThat(f.info("big").byteSize()).isEqualTo(big);
            assertThatThrownBy(() -> f.getBytes("big")).hasMessageContaining("too large for one Java array");
        }
    }

    // ---- rejections: files built by hand ----

    private static final String X12 = "\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}";

    @Test
    void rejectsTruncatedFile() throws IOException {
        Path p = handMade("trunc.safetensors", "{" + X12 + "}", new byte[9]);
        assertRejected(p, "truncated", "missing 3");
    }

    @Test
    void rejectsHeaderLongerThanFile() throws IOException {
        Path p = handMade("short.safetensors", "{" + X12 + "}", 1000, new byte[12]);
        assertRejected(p, "header length 1000 runs past the end of the file");
    }

    @Test
    void rejectsOversizedHeaderLength() throws IOException {
        Path p = handMade("huge.safetensors", "{}", 100_000_001L, new byte[0]);
        assertRejected(p, "header length 100000001 exceeds the limit of 100000000 bytes");
        Path q = handMade("neg.safetensors", "{}", -1L, new byte[0]);
        assertRejected(q, "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void rejectsOverlappingOffsets() throws IOException {
        String h = "{\"y\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,24]}}";
        Path p = handMade("overlap.safetensors", h, new byte[24]);
        assertRejected(p, "tensor 'x' data_offsets [12,24] overlap previous tensor 'y' ending at 16");
    }

    @Test
    void rejectsHoleInOffsets() throws IOException {
        String h = "{\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        Path p = handMade("hole.safetensors", h, new byte[12]);
        assertRejected(p, "hole in the data buffer: bytes [4,8) belong to no tensor", "'x'");
        String first = "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}";
        assertRejected(handMade("hole0.safetensors", first, new byte[2]), "bytes [0,1) belong to no tensor");
    }

    @Test
    void rejectsWrongByteSpan() throws IOException {
        String h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        Path p = handMade("span.safetensors", h, new byte[8]);
        assertRejected(p, "tensor 'x' (F32, shape [3]) needs 12 bytes but data_offsets [0,8] span 8");
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        String h = "{\"x\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}";
        Path p = handMade("dtype.safetensors", h, new byte[1]);
        assertRejected(p, "tensor 'x' has unknown dtype \"F4\"");
    }

    @Test
    void rejectsDuplicateName() throws IOException {
        String h = "{" + X12 + "," + X12.replace("[0,12]", "[12,24]") + "}";
        Path p = handMade("dupname.safetensors", h, new byte[24]);
        assertRejected(p, "duplicate tensor name 'x'");
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        Path p = handMade("trail.safetensors", "{" + X12 + "}", new byte[15]);
        assertRejected(p, "3 trailing bytes after the end of the data buffer at file offset");
    }

    @Test
    void rejectsOtherMalformedHeaders() throws IOException {
        assertRejected(handMade("notjson.safetensors", "[1,2]", new byte[0]), "must be a JSON object starting with '{'");
        assertRejected(handMade("garbage.safetensors", "{}x", new byte[0]), "unexpected characters after its JSON");
        assertRejected(handMade("bad.safetensors", "{\"x\":", new byte[0]), "header is not valid JSON");
        assertRejected(handMade("meta.safetensors", "{\"__metadata__\":{\"a\":1}}", new byte[0]),
                "value of key 'a' must be a string");
        assertRejected(handMade("negdim.safetensors",
                "{\"x\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0]),
                "tensor 'x' shape must hold non-negative integers, got -1");
        assertRejected(handMade("missing.safetensors", "{\"x\":{\"dtype\":\"U8\",\"shape\":[0]}}", new byte[0]),
                "tensor 'x' has no \"data_offsets\"");
        assertRejected(handMade("dupfield.safetensors",
                "{\"x\":{\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[0]),
                "tensor 'x' has a duplicate field \"dtype\"");
        byte[] badUtf8 = {'{', '"', (byte) 0xC3, '"', ':', '1', '}'};
        ByteBuffer b = ByteBuffer.allocate(8 + badUtf8.length).order(ByteOrder.LITTLE_ENDIAN);
        Path p = dir.resolve("utf8.safetensors");
        Files.write(p, b.putLong(badUtf8.length).put(badUtf8).array());
        assertRejected(p, "not valid UTF-8");
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertRejected(tiny, "too short for the 8-byte header length");
    }

    @Test
    void tensorDataChecksItsSize() {
        assertThatThrownBy(() -> TensorData.f32("w", shape(2, 3), new float[5]))
                .hasMessageContaining("tensor 'w': shape [2, 3] has 6 elements but 5 values were given");
        assertThatThrownBy(() -> new TensorData("w", Dtype.BF16, shape(3), new byte[4]))
                .hasMessageContaining("needs 6 bytes but 4 were given");
        assertThat(Arrays.asList(Dtype.values())).contains(Dtype.F8_E4M3, Dtype.F8_E5M2, Dtype.BOOL);
        assertThat(Dtype.fromHeader("BF16").size()).isEqualTo(2);
        assertThat(Dtype.fromHeader("bf16")).isNull();
    }
}
