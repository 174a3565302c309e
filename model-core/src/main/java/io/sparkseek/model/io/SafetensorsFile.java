package io.sparkseek.model.io;

import io.sparkseek.model.fp8.Bf16;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An open, validated safetensors file (spec §9.1), from {@link Safetensors#open(Path)}. Tensor data is read on
 * demand with positional {@link FileChannel} reads, so files larger than 2 GiB work and concurrent reads from
 * several threads are safe; one tensor must fit a Java array (&lt; 2^31 bytes).
 */
public final class SafetensorsFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;

    SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                    Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = List.copyOf(tensors.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor names in the order the header lists them (for files from {@link Safetensors#write} this is also
     *  the order of their data). */
    public List<String> names() {
        return names;
    }

    /** Whether the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** dtype, shape and offsets of tensor {@code name}. */
    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path, "no tensor '" + name + "' (the file holds " + tensors.size()
                    + " tensors" + (names.isEmpty() ? "" : ", e.g. '" + names.get(0) + "'") + ")");
        }
        return t;
    }

    /** The {@code __metadata__} map (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Raw little-endian bytes of tensor {@code name}. */
    public byte[] getBytes(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.byteSize() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, "tensor '" + name + "' is " + t.byteSize()
                    + " bytes, too large for one Java array; split it into smaller tensors");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) t.byteSize());
        Safetensors.readFully(path, channel, buf, dataStart + t.begin(), "tensor '" + name + "'");
        return buf.array();
    }

    /** The tensor as {@link TensorData} (raw bytes, same dtype and shape). */
    public TensorData get(String name) throws IOException {
        TensorInfo t = info(name);
        return new TensorData(name, t.dtype(), t.shape(), getBytes(name));
    }

    /** Values of an F32, BF16 or F16 tensor as fp32 (BF16 and F16 are widened exactly). */
    public float[] getFloats(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype() != Dtype.F32 && t.dtype() != Dtype.BF16 && t.dtype() != Dtype.F16) {
            throw wrongDtype(t, "getFloats reads F32, BF16 or F16; use getBytes (or getInts/getLongs)");
        }
        ByteBuffer b = ByteBuffer.wrap(getBytes(name)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) t.numel()];
        switch (t.dtype()) {
            case F32 -> b.asFloatBuffer().get(out);
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Bf16.toFloat(b.getShort());
                }
            }
            default -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Half.toFloat(b.getShort());
                }
            }
        }
        return out;
    }

    /** Values of an I32 tensor. */
    public int[] getInts(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype() != Dtype.I32) {
            throw wrongDtype(t, "getInts reads I32 only");
        }
        int[] out = new int[(int) t.numel()];
        ByteBuffer.wrap(getBytes(name)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    /** Values of an I64 tensor. */
    public long[] getLongs(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype() != Dtype.I64) {
            throw wrongDtype(t, "getLongs reads I64 only");
        }
        long[] out = new long[(int) t.numel()];
        ByteBuffer.wrap(getBytes(name)).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    private SafetensorsException wrongDtype(TensorInfo t, String hint) {
        return new SafetensorsException(path, "tensor '" + t.name() + "' has dtype " + t.dtype() + "; " + hint);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
