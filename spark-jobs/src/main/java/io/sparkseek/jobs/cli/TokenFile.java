package io.sparkseek.jobs.cli;

import io.sparkseek.model.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --tokens FILE}: raw little-endian int32, rows of seqLen + 1 tokens (ARCHITECTURE §4). */
final class TokenFile {
    private TokenFile() {
    }

    /** All rows of the file; an error names the file when its size is not a whole number of rows. */
    static int[] read(Path file, int seqLen) throws IOException {
        if (seqLen < 1) {
            throw new IllegalArgumentException("--seq-len must be >= 1, got " + seqLen);
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException("--tokens " + file + ": no such file");
        }
        long size = Files.size(file);
        long rowBytes = 4L * (seqLen + 1);
        if (size == 0 || size % rowBytes != 0) {
            throw new IOException("--tokens " + file + ": " + size + " bytes is not a whole number of rows of "
                    + (seqLen + 1) + " int32 tokens (" + rowBytes + " bytes each): check --seq-len");
        }
        if (size > Integer.MAX_VALUE) {
            throw new IOException("--tokens " + file + ": too large for one pass (" + size + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[(int) (size / 4)];
        buf.asIntBuffer().get(out);
        return out;
    }

    /**
     * Checks every id (inputs and targets) against the model's vocabulary; the error names the file, the row and
     * the column, so a tokenizer/config mismatch is found in the data rather than deep inside a forward pass.
     */
    static void checkVocab(Path file, int[] tokens, int seqLen, int vocabSize) {
        for (int i = 0; i < tokens.length; i++) {
            int id = tokens[i];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("--tokens " + file + ": token id " + id + " at row "
                        + i / (seqLen + 1) + ", column " + i % (seqLen + 1) + " is outside the vocabulary [0, "
                        + vocabSize + ") of the model's config.json vocab_size: the data and the model disagree");
            }
        }
    }

    /**
     * The rows of optimizer step {@code step}: rows {@code step·batch} … {@code (step+1)·batch − 1} of the file, in
     * order (the rule {@code bench/torch_train.py --tokens} follows too). The error names the file and the rows it
     * would need when the file is too short.
     */
    static int[] batch(Path file, int[] tokens, int seqLen, long step, int batch) {
        int row = seqLen + 1;
        long rows = tokens.length / row;
        long first = step * batch;
        if (step < 0 || batch < 1 || first + batch > rows) {
            throw new IllegalArgumentException("--tokens " + file + ": " + rows + " rows of " + row + " tokens, but "
                    + "step " + step + " with batch " + batch + " needs rows " + first + ".." + (first + batch - 1)
                    + ": write at least " + (first + batch) + " rows (tokens --rows) or train fewer steps");
        }
        int[] out = new int[batch * row];
        System.arraycopy(tokens, (int) (first * row), out, 0, out.length);
        return out;
    }

    static void write(Path file, int[] tokens) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(tokens.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(tokens);
        AtomicFiles.writeBytes(file, buf.array());
    }
}
