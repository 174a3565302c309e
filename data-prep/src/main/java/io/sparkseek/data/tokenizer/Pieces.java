package io.sparkseek.data.tokenizer;

import java.util.Arrays;

/**
 * Pre-tokenization state: a text and an ordered list of non-empty [start, end) char ranges in it, the way HF's
 * {@code PreTokenizedString} holds its splits. Each pre-tokenizer step reads one and returns a new one, so every step
 * runs one {@link java.util.regex.Matcher} over one string instead of allocating a substring per piece.
 */
final class Pieces {
    private static final int INITIAL_CAPACITY = 16;

    final String text;
    private int[] bounds;
    private int count;

    Pieces(String text) {
        this.text = text;
        this.bounds = new int[2 * INITIAL_CAPACITY];
    }

    /** The whole text as one piece (none when it is empty). */
    static Pieces whole(String text) {
        Pieces p = new Pieces(text);
        p.add(0, text.length());
        return p;
    }

    /** Appends [start, end); empty ranges are dropped, as HF drops empty splits. */
    void add(int start, int end) {
        if (start >= end) {
            return;
        }
        if (2 * count + 2 > bounds.length) {
            bounds = Arrays.copyOf(bounds, bounds.length * 2);
        }
        bounds[2 * count] = start;
        bounds[2 * count + 1] = end;
        count++;
    }

    int count() {
        return count;
    }

    int start(int i) {
        return bounds[2 * i];
    }

    int end(int i) {
        return bounds[2 * i + 1];
    }

    String piece(int i) {
        return text.substring(start(i), end(i));
    }
}
