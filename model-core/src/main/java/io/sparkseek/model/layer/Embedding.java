package io.sparkseek.model.layer;

/** Token embedding lookup {@code h⁰ = embed_tokens[ids]} (spec §2, no scaling); backward is a scatter-add (§7). */
public final class Embedding {
    private final Param table;
    private final int vocab;
    private final int dim;
    private int[] ids;      // cached token ids [n]
    private float[] y;      // [n, dim]

    public Embedding(Param table) {
        this.table = table;
        this.vocab = table.rows();
        this.dim = table.cols();
    }

    public Param weight() {
        return table;
    }

    /** ids [n] → [n, dim]; caches ids. */
    public float[] forward(int[] ids, int n) {
        this.ids = ids;
        y = Buffers.ensure(y, n * dim);
        float[] w = table.w();
        for (int t = 0; t < n; t++) {
            int id = ids[t];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at position " + t
                        + " is outside the vocabulary [0, " + vocab + "): the data and config.json vocab_size disagree");
            }
            System.arraycopy(w, id * dim, y, t * dim, dim);
        }
        return y;
    }

    /** dE[id_t] += dy_t, in token order (repeated ids accumulate deterministically). */
    public void backward(float[] dy, int n) {
        float[] g = table.g();
        for (int t = 0; t < n; t++) {
            int o = ids[t] * dim;
            int s = t * dim;
            for (int j = 0; j < dim; j++) {
                g[o + j] += dy[s + j];
            }
        }
    }
}
