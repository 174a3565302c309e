package io.sparkseek.data.tokenizer;

/**
 * GPT-2's reversible byte-to-character table, as used by HF tokenizers' {@code ByteLevel} pre-tokenizer and decoder
 * (spec §10: "byte-level mapping"). Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) map to
 * themselves; the remaining 68 bytes map, in byte order, to U+0100, U+0101, ... so that every byte has a visible,
 * non-space character (space 0x20 becomes {@code Ġ} U+0120, newline 0x0A becomes {@code Ċ} U+010A).
 */
public final class ByteLevel {
    /** Number of distinct byte values. */
    public static final int BYTE_COUNT = 256;
    /** First code point used for bytes that are not printable Latin-1. */
    private static final int SHIFTED_BASE = 0x100;
    /** Characters above this never occur in the table. */
    private static final int MAX_TABLE_CHAR = SHIFTED_BASE + BYTE_COUNT;

    private static final ByteLevel INSTANCE = new ByteLevel();

    private final char[] byteToChar = new char[BYTE_COUNT];
    private final int[] charToByte = new int[MAX_TABLE_CHAR];

    private ByteLevel() {
        java.util.Arrays.fill(charToByte, -1);
        int shifted = 0;
        for (int b = 0; b < BYTE_COUNT; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (SHIFTED_BASE + shifted++);
            byteToChar[b] = c;
            charToByte[c] = b;
        }
    }

    /** The table (immutable, shared). */
    public static ByteLevel table() {
        return INSTANCE;
    }

    /** The character standing for byte {@code b} (0..255, or a signed Java byte). */
    public char charOf(int b) {
        return byteToChar[b & 0xFF];
    }

    /** The byte a table character stands for, or -1 if {@code c} is not in the table. */
    public int byteOf(char c) {
        return c < MAX_TABLE_CHAR ? charToByte[c] : -1;
    }

    /** Maps every byte to its character: the token-alphabet form of a byte string. */
    public String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = byteToChar[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * The bytes a token stands for, the way HF's ByteLevel decoder does it: the mapped bytes when every character is in
     * the table, else the token's own UTF-8 bytes (added tokens such as {@code <｜end▁of▁sentence｜>}).
     */
    public byte[] decodeToken(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
