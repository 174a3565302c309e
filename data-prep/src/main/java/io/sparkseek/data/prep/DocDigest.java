package io.sparkseek.data.prep;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 of a cleaned document's UTF-8 bytes, used twice: its first 8 bytes are the exact-dedup content hash
 * (a collision between two different documents is expected only beyond ~4·10^9 documents), its next 8 bytes a
 * uniform number in [0, 1) that puts the document in the validation split when it is below the val fraction
 * (rule {@link PrepOptions#SPLIT_RULE}). Both depend on the text only, so the split is the same on every run,
 * partitioning and machine, and a document and its exact copy always land on the same side.
 */
public record DocDigest(long contentHash, double splitValue) implements java.io.Serializable {

    public static DocDigest of(String text) {
        byte[] d = sha256(text.getBytes(StandardCharsets.UTF_8));
        ByteBuffer b = ByteBuffer.wrap(d);
        long hash = b.getLong(0);
        long u = b.getLong(Long.BYTES) >>> 11; // 53 bits: exactly representable as a double
        return new DocDigest(hash, u * 0x1.0p-53);
    }

    /** True when the document belongs to the validation split. */
    public boolean isVal(double valFraction) {
        return splitValue < valFraction;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
