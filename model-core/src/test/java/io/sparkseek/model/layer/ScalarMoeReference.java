package io.sparkseek.model.layer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Plain double-precision, per-token re-implementation of SwiGLU, DeepSeek-V3 routing (spec §4.2), the MoE
 * output and the sequence-wise balance loss (spec §6.2), written from the spec and independent of the code under
 * test (sorting with comparators instead of selection loops, no GEMMs, no buffers). Also a central-difference
 * gradient check on top of it.
 */
final class ScalarMoeReference {
    private ScalarMoeReference() {
    }

    static double sigmoid(double v) {
        return 1.0 / (1.0 + Math.exp(-v));
    }

    /** One row: y[H] = down(SiLU(gate x) ⊙ up x); gate/up [I, H], down [H, I]. */
    static double[] swiglu(double[] x, int xOff, double[] gate, double[] up, double[] down, int hidden, int inter) {
        double[] h = new double[inter];
        for (int i = 0; i < inter; i++) {
            double a = 0;
            double u = 0;
            for (int j = 0; j < hidden; j++) {
                a += gate[i * hidden + j] * x[xOff + j];
                u += up[i * hidden + j] * x[xOff + j];
            }
            h[i] = a * sigmoid(a) * u;
        }
        double[] y = new double[hidden];
        for (int j = 0; j < hidden; j++) {
            double acc = 0;
            for (int i = 0; i < inter; i++) {
                acc += down[j * inter + i] * h[i];
            }
            y[j] = acc;
        }
        return y;
    }

    /** Routing of one token: chosen experts in descending c (ties: lower index), their weights, and all s. */
    record Route(int[] chosen, double[] weights, double[] s) {
    }

    static Route route(double[] x, int xOff, double[] gateW, double[] bias, MoeShape cfg) {
        int e = cfg.nExperts();
        int hd = cfg.hidden();
        double[] s = new double[e];
        double[] c = new double[e];
        for (int i = 0; i < e; i++) {
            double logit = 0;
            for (int j = 0; j < hd; j++) {
                logit += gateW[i * hd + j] * x[xOff + j];
            }
            s[i] = sigmoid(logit);
            c[i] = s[i] + bias[i];
        }
        int groups = cfg.nGroup();
        int per = e / groups;
        double[] groupScore = new double[groups];
        for (int g = 0; g < groups; g++) {
            double[] vals = Arrays.copyOfRange(c, g * per, (g + 1) * per);
            Arrays.sort(vals);
            groupScore[g] = vals[per - 1] + (per > 1 ? vals[per - 2] : 0.0);
        }
        Integer[] gOrder = new Integer[groups];
        for (int g = 0; g < groups; g++) {
            gOrder[g] = g;
        }
        Arrays.sort(gOrder, Comparator.comparingDouble((Integer g) -> -groupScore[g]).thenComparingInt(g -> g));
        boolean[] keep = new boolean[groups];
        for (int r = 0; r < cfg.topkGroup(); r++) {
            keep[gOrder[r]] = true;
        }
        double[] masked = new double[e];
        for (int i = 0; i < e; i++) {
            masked[i] = keep[i / per] ? c[i] : Double.NEGATIVE_INFINITY;
        }
        Integer[] eOrder = new Integer[e];
        for (int i = 0; i < e; i++) {
            eOrder[i] = i;
        }
        Arrays.sort(eOrder, Comparator.comparingDouble((Integer i) -> -masked[i]).thenComparingInt(i -> i));
        int k = cfg.topK();
        int[] chosen = new int[k];
        double sum = 0;
        for (int r = 0; r < k; r++) {
            chosen[r] = eOrder[r];
            sum += s[chosen[r]];
        }
        double[] w = new double[k];
        for (int r = 0; r < k; r++) {
            w[r] = (cfg.normTopkProb() ? s[chosen[r]] / sum : s[chosen[r]]) * cfg.routedScalingFactor();
        }
        return new Route(chosen, w, s);
    }

    /** Result of the reference MoE forward: y [n, H], selection [n, K], L_Bal (mean over sequences). */
    record MoeResult(double[] y, int[] selection, double balanceLoss, double[] s) {
    }

    /** The MoE of HF prefix {@code prefix} with weights by HF name, per token, then the balance loss. */
    static MoeResult moe(String prefix, Map<String, double[]> p, double[] bias, MoeShape cfg, double alpha,
                         double[] x, int n, int seqLen) {
        int hd = cfg.hidden();
        int e = cfg.nExperts();
        int k = cfg.topK();
        double[] y = new double[n * hd];
        int[] sel = new int[n * k];
        double[] sAll = new double[n * e];
        for (int t = 0; t < n; t++) {
            Route r = route(x, t * hd, p.get(prefix + ".gate.weight"), bias, cfg);
            System.arraycopy(r.s(), 0, sAll, t * e, e);
            for (int q = 0; q < k; q++) {
                int j = r.chosen()[q];
                sel[t * k + q] = j;
                String ep = prefix + ".experts." + j;
                double[] out = swiglu(x, t * hd, p.get(ep + ".gate_proj.weight"), p.get(ep + ".up_proj.weight"),
                        p.get(ep + ".down_proj.weight"), hd, cfg.moeInter());
                for (int d = 0; d < hd; d++) {
                    y[t * hd + d] += r.weights()[q] * out[d];
                }
            }
            if (cfg.nShared() > 0) {
                String sp = prefix + ".shared_experts";
                double[] out = swiglu(x, t * hd, p.get(sp + ".gate_proj.weight"), p.get(sp + ".up_proj.weight"),
                        p.get(sp + ".down_proj.weight"), hd, cfg.nShared() * cfg.moeInter());
                for (int d = 0; d < hd; d++) {
                    y[t * hd + d] += out[d];
                }
            }
        }
        double bal = 0;
        if (alpha > 0) {
            int seqs = n / seqLen;
            for (int b = 0; b < seqs; b++) {
                double[] f = new double[e];
                double[] pMean = new double[e];
                for (int t = b * seqLen; t < (b + 1) * seqLen; t++) {
                    for (int q = 0; q < k; q++) {
                        f[sel[t * k + q]] += (double) e / (k * seqLen);
                    }
                    double rowSum = 0;
                    for (int i = 0; i < e; i++) {
                        rowSum += sAll[t * e + i];
                    }
                    for (int i = 0; i < e; i++) {
                        pMean[i] += sAll[t * e + i] / rowSum / seqLen;
                    }
                }
                double l = 0;
                for (int i = 0; i < e; i++) {
                    l += f[i] * pMean[i];
                }
                bal += alpha * l / seqs;
            }
        }
        return new MoeResult(y, sel, bal, sAll);
    }

    static double dot(double[] a, double[] b) {
        double acc = 0;
        for (int i = 0; i < a.length; i++) {
            acc += a[i] * b[i];
        }
        return acc;
    }

    static double[] toDouble(float[] v, int len) {
        double[] d = new double[len];
        for (int i = 0; i < len; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static double[] toDouble(float[] v) {
        return toDouble(v, v.length);
    }

    /** Weights of {@code params} as doubles, by name. */
    static Map<String, double[]> weights(List<Param> params) {
        Map<String, double[]> m = new HashMap<>();
        for (Param p : params) {
            m.put(p.name(), toDouble(p.w()));
        }
        return m;
    }

    static void fillGaussian(float[] v, Random rnd, double std) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * std);
        }
    }

    static float[] gaussian(int len, Random rnd, double std) {
        float[] v = new float[len];
        fillGaussian(v, rnd, std);
        return v;
    }

    /** max|a − b| / max|b| over the first {@code len} entries (b is the reference). */
    static double relError(float[] a, double[] b, int len) {
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < len; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            ref = Math.max(ref, Math.abs(b[i]));
        }
        return diff / Math.max(ref, 1e-30);
    }

    /** A scalar loss of double arrays that the gradient check perturbs in place. */
    interface Loss {
        double eval();
    }

    /** Central differences of {@code loss} w.r.t. every entry of {@code w} (perturbed in place, restored). */
    static double[] finiteDifferences(double[] w, Loss loss) {
        double[] g = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            double orig = w[i];
            double h = 1e-5 * Math.max(1.0, Math.abs(orig));
            w[i] = orig + h;
            double plus = loss.eval();
            w[i] = orig - h;
            double minus = loss.eval();
            w[i] = orig;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }

    /** Failure lines of tensors whose analytic gradient differs from the FD one by more than {@code tol} relative. */
    static List<String> compare(Map<String, float[]> analytic, Map<String, double[]> fd, double tol) {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, double[]> en : fd.entrySet()) {
            double[] ref = en.getValue();
            double err = relError(analytic.get(en.getKey()), ref, ref.length);
            double maxRef = Arrays.stream(ref).map(Math::abs).max().orElse(0);
            if (!(err <= tol) || maxRef == 0) {
                bad.add(en.getKey() + ": rel " + err + ", max|fd| " + maxRef);
            }
        }
        return bad;
    }
}
