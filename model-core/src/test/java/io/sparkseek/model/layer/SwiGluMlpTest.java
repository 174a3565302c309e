package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.sparkseek.model.layer.ScalarMoeReference.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SwiGluMlpTest {
    private static final int H = 12;
    private static final int I = 20;
    private static final int N = 7;

    private static SwiGluMlp randomMlp(Random rnd) {
        SwiGluMlp mlp = new SwiGluMlp("model.layers.0.mlp", H, I);
        for (Param p : mlp.params()) {
            fillGaussian(p.w(), rnd, 0.4);
        }
        return mlp;
    }

    @Test
    void paramsHaveHfNamesShapesAndOrder() {
        List<Param> ps = new SwiGluMlp("model.layers.0.mlp", H, I).params();
        assertEquals("model.layers.0.mlp.gate_proj.weight[20, 12]", ps.get(0).toString());
        assertEquals("model.layers.0.mlp.up_proj.weight[20, 12]", ps.get(1).toString());
        assertEquals("model.layers.0.mlp.down_proj.weight[12, 20]", ps.get(2).toString());
    }

    @Test
    void forwardMatchesScalarReference() {
        Random rnd = new Random(1);
        SwiGluMlp mlp = randomMlp(rnd);
        float[] x = gaussian(N * H, rnd, 1.0);
        float[] y = mlp.forward(ComputePool.serial(), x, N);
        Map<String, double[]> w = weights(mlp.params());
        double[] ref = reference(w, toDouble(x));
        assertTrue(relError(y, ref, N * H) < 1e-5, "rel error " + relError(y, ref, N * H));
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rnd = new Random(2);
        SwiGluMlp mlp = randomMlp(rnd);
        float[] x = gaussian(N * H, rnd, 1.0);
        float[] r = gaussian(N * H, rnd, 1.0);
        try (ComputePool pool = new ComputePool(2)) {
            mlp.forward(pool, x, N);
            float[] dx = mlp.backward(pool, r, N);

            Map<String, double[]> w = weights(mlp.params());
            double[] xd = toDouble(x);
            double[] rd = toDouble(r);
            Loss loss = () -> dot(reference(w, xd), rd);
            Map<String, double[]> fd = new LinkedHashMap<>();
            Map<String, float[]> an = new LinkedHashMap<>();
            for (Param p : mlp.params()) {
                fd.put(p.name(), finiteDifferences(w.get(p.name()), loss));
                an.put(p.name(), p.g());
            }
            fd.put("x", finiteDifferences(xd, loss));
            an.put("x", dx);
            List<String> bad = compare(an, fd, 1e-3);
            assertTrue(bad.isEmpty(), String.join("\n", bad));
        }
    }

    private static double[] reference(Map<String, double[]> w, double[] x) {
        double[] y = new double[N * H];
        for (int t = 0; t < N; t++) {
            double[] row = swiglu(x, t * H, w.get("model.layers.0.mlp.gate_proj.weight"),
                    w.get("model.layers.0.mlp.up_proj.weight"), w.get("model.layers.0.mlp.down_proj.weight"), H, I);
            System.arraycopy(row, 0, y, t * H, H);
        }
        return y;
    }
}
