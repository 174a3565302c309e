package io.sparkseek.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Fuzzes the safetensors reader with thousands of mutated files: random bytes of the header, the header length,
 * the numbers inside the header (offsets, shape dimensions: off by one, negative, huge, overflowing, fractional),
 * dtype names, and truncated or extended files. Every outcome must be either a file that opens and whose every
 * tensor reads back with the byte count its header promises, or a {@link SafetensorsException} whose message
 * starts with the file path. Anything else (an unchecked exception, an OutOfMemoryError, a hang) fails.
 */
class SafetensorsFuzzTest {
    private static final int CASES_PER_KIND = 700;
    private static final Pattern NUMBER = Pattern.compile("-?\\d+");
    private static final String[] DTYPES = {"F32", "BF16", "F16", "I32", "I64", "U8", "F8_E4M3", "BOOL", "F64",
            "f32", "F128", "", "I4"};
    private static final long[] SPECIAL = {0, 1, -1, 2, 7, 8, 255, 4096, Integer.MAX_VALUE, Integer.MIN_VALUE,
            (long) Integer.MAX_VALUE + 1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, 1L << 31, 100_000_001};

    /** A valid file with several dtypes, ranks (0-d and zero-size included) and metadata. */
    private static byte[] seed(Path dir) throws IOException {
        List<TensorData> ts = new ArrayList<>();
        ts.add(TensorData.f32("a.weight", new long[]{3, 5}, new float[15]));
        ts.add(TensorData.bf16("b", new long[]{4}, new float[]{1, -2, 3.5f, 0}));
        ts.add(TensorData.f16("c", new long[]{2, 1, 2}, new float[]{0.5f, 1, 2, 4}));
        ts.add(TensorData.i64("d", new long[]{}, new long[]{42}));
        ts.add(TensorData.i32("e", new long[]{0, 7}, new int[0]));
        ts.add(TensorData.f8e4m3("f", new long[]{2, 3}, new byte[]{1, 2, 3, 4, 5, 6}));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("step", "12");
        Path p = dir.resolve("seed.safetensors");
        Safetensors.write(p, ts, meta);
        return Files.readAllBytes(p);
    }

    private static int headerLength(byte[] file) {
        return (int) ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Opens {@code bytes} as a file and reads every tensor; returns the outcome or fails the test. */
    private static String check(Path file, byte[] bytes, String what) throws IOException {
        Files.write(file, bytes);
        try (SafetensorsFile f = Safetensors.open(file)) {
            for (String name : f.names()) {
                TensorInfo t = f.info(name);
                byte[] data = f.getBytes(name);
                assertThat((long) data.length).as(what).isEqualTo(t.byteSize()).isEqualTo(t.numel() * t.dtype().size());
                if (t.dtype() == Dtype.F32 || t.dtype() == Dtype.BF16 || t.dtype() == Dtype.F16) {
                    assertThat((long) f.getFloats(name).length).as(what).isEqualTo(t.numel());
                }
            }
            f.metadata().forEach((k, v) -> assertThat(k).isNotNull());
            return "ok";
        } catch (SafetensorsException e) {
            assertThat(e.getMessage()).as(what).startsWith(file + ": ");
            assertThat(e.getMessage().length()).as(what).isGreaterThan(file.toString().length() + 10);
            return "rejected";
        } catch (IOException | RuntimeException | Error e) {
            throw new AssertionError(what + ": the reader ended in " + e + " instead of a SafetensorsException", e);
        }
    }

    /** Replaces the k-th integer literal of the header by {@code value}, re-padding the header length. */
    private static byte[] replaceNumber(byte[] file, int k, String value) {
        int n = headerLength(file);
        String header = new String(file, 8, n, StandardCharsets.UTF_8);
        Matcher m = NUMBER.matcher(header);
        int i = 0;
        while (m.find()) {
            if (i++ == k) {
                String h = header.substring(0, m.start()) + value + header.substring(m.end());
                return withHeader(file, h.getBytes(StandardCharsets.UTF_8));
            }
        }
        return file;
    }

    private static byte[] withHeader(byte[] file, byte[] header) {
        int n = headerLength(file);
        byte[] data = Arrays.copyOfRange(file, 8 + n, file.length);
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(header.length).put(header).put(data).array();
    }

    private static int numberCount(byte[] file) {
        Matcher m = NUMBER.matcher(new String(file, 8, headerLength(file), StandardCharsets.UTF_8));
        int c = 0;
        while (m.find()) {
            c++;
        }
        return c;
    }

    private static String randomNumber(SplittableRandom rnd, String old) {
        long v = Long.parseLong(old);
        return switch (rnd.nextInt(6)) {
            case 0 -> Long.toString(v + rnd.nextInt(-3, 4));
            case 1 -> Long.toString(SPECIAL[rnd.nextInt(SPECIAL.length)]);
            case 2 -> Long.toString(rnd.nextLong());
            case 3 -> v + ".5";
            case 4 -> "1e" + rnd.nextInt(1, 30);
            default -> "99999999999999999999999";
        };
    }

    @Test
    void mutatedFilesOpenCompletelyOrFailWithAClearError(@TempDir Path dir) {
        assertTimeoutPreemptively(Duration.ofMinutes(3), () -> fuzz(dir));
    }

    private static void fuzz(Path dir) throws IOException {
        byte[] seed = seed(dir);
        Path file = dir.resolve("mutant.safetensors");
        assertThat(check(file, seed, "the seed")).isEqualTo("ok");
        SplittableRandom rnd = new SplittableRandom(20261128);
        Map<String, int[]> outcomes = new LinkedHashMap<>();
        int n = headerLength(seed);
        int numbers = numberCount(seed);
        for (int kind = 0; kind < 6; kind++) {
            for (int c = 0; c < CASES_PER_KIND; c++) {
                byte[] b = seed.clone();
                String what;
                switch (kind) {
                    case 0 -> { // random header bytes
                        int flips = rnd.nextInt(1, 4);
                        for (int i = 0; i < flips; i++) {
                            b[8 + rnd.nextInt(n)] = (byte) rnd.nextInt(256);
                        }
                        what = "header bytes";
                    }
                    case 1 -> { // the 8-byte header length
                        long v = rnd.nextBoolean() ? n + rnd.nextInt(-16, 17) : SPECIAL[rnd.nextInt(SPECIAL.length)];
                        ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
                        what = "header length " + v;
                    }
                    case 2 -> { // a number inside the header: offsets, shape dimensions, metadata
                        int k = rnd.nextInt(numbers);
                        Matcher m = NUMBER.matcher(new String(b, 8, n, StandardCharsets.UTF_8));
                        String old = "0";
                        for (int i = 0; i <= k && m.find(); i++) {
                            old = m.group();
                        }
                        String v = randomNumber(rnd, old);
                        b = replaceNumber(b, k, v);
                        what = "number #" + k + " " + old + " -> " + v;
                    }
                    case 3 -> { // a dtype name
                        String h = new String(b, 8, n, StandardCharsets.UTF_8);
                        String from = DTYPES[rnd.nextInt(7)];
                        String to = DTYPES[rnd.nextInt(DTYPES.length)];
                        b = withHeader(b, h.replaceFirst("\"" + from + "\"", "\"" + to + "\"")
                                .getBytes(StandardCharsets.UTF_8));
                        what = "dtype " + from + " -> " + to;
                    }
                    case 4 -> { // truncated or extended file
                        int len = rnd.nextBoolean() ? rnd.nextInt(b.length) : b.length + rnd.nextInt(1, 64);
                        b = Arrays.copyOf(b, len);
                        what = "length " + len;
                    }
                    default -> { // structural edits: a header character deleted or inserted
                        String h = new String(b, 8, n, StandardCharsets.UTF_8);
                        int at = rnd.nextInt(h.length());
                        String[] ins = {"{", "}", "[", "]", "\"", ",", ":", "\\", "\u0000", "null", "\"x\":1,"};
                        h = rnd.nextBoolean() ? h.substring(0, at) + h.substring(at + 1)
                                : h.substring(0, at) + ins[rnd.nextInt(ins.length)] + h.substring(at);
                        b = withHeader(b, h.getBytes(StandardCharsets.UTF_8));
                        what = "structural edit at " + at;
                    }
                }
                String outcome = check(file, b, "kind " + kind + " case " + c + ": " + what);
                outcomes.computeIfAbsent(outcome, k -> new int[6])[kind]++;
            }
        }
        int total = 6 * CASES_PER_KIND;
        int rejected = Arrays.stream(outcomes.getOrDefault("rejected", new int[6])).sum();
        System.out.printf("safetensors fuzz: %d mutated files, %d rejected with a clear error, %d still valid%n",
                total, rejected, total - rejected);
        assertThat(rejected).as("most mutations break the format").isGreaterThan(total / 2);
    }
}
