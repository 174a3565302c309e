package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkseek.model.fp8.Bf16;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Bf16Vectors} against the scalar {@link Bf16} and an independent nearest-value search, bit for bit. */
class Bf16VectorsTest {

    /** Every bf16 upper half with low halves at and around the ties (and one random), NaN payloads included. */
    private static float[] denseSample() {
        int[] lows = {0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, -1};
        Random rnd = new Random(7);
        float[] x = new float[65536 * lows.length];
        int i = 0;
        for (int hi = 0; hi < 65536; hi++) {
            for (int lo : lows) {
                int low = lo >= 0 ? lo : rnd.nextInt(65536);
                x[i++] = Float.intBitsToFloat(hi << 16 | low);
            }
        }
        return x;
    }

    /**
     * Round to nearest even by comparing the two neighbouring bf16 values in double (finite inputs whose upper
     * neighbour is finite), independent of the bit trick both implementations use.
     */
    private static short nearest(float f) {
        int bits = Float.floatToRawIntBits(f);
        short down = (short) (bits >>> 16);
        short up = (short) ((bits >>> 16) + 1);
        double dDown = Math.abs((double) f - Bf16.toFloat(down));
        double dUp = Math.abs((double) f - Bf16.toFloat(up));
        if (dDown != dUp) {
            return dDown < dUp ? down : up;
        }
        return (down & 1) == 0 ? down : up;
    }

    @Test
    void fromFloatsEqualsTheScalarEncoderAndTheNearestValue() {
        float[] x = denseSample();
        short[] out = new short[x.length];
        Bf16Vectors.fromFloats(x, 0, out, 0, x.length);
        int checkedNearest = 0;
        for (int i = 0; i < x.length; i++) {
            int bits = Float.floatToRawIntBits(x[i]);
            assertThat(out[i]).as("bits %08x", bits).isEqualTo(Bf16.fromFloat(x[i]));
            boolean upFinite = Float.isFinite(Bf16.toFloat((short) ((bits >>> 16) + 1)));
            if (Float.isFinite(x[i]) && upFinite && (bits & 0xFFFF) != 0 || (bits & 0x7FFF_FFFF) < 0x7F80_0000
                    && (bits & 0xFFFF) == 0) {
                assertThat(out[i]).as("bits %08x", bits).isEqualTo(nearest(x[i]));
                checkedNearest++;
            }
        }
        assertThat(checkedNearest).isGreaterThan(x.length * 9 / 10);
    }

    @Test
    void toFloatsIsExactForEveryCode() {
        short[] h = new short[65536];
        for (int i = 0; i < h.length; i++) {
            h[i] = (short) i;
        }
        float[] out = new float[h.length];
        Bf16Vectors.toFloats(h, 0, out, 0, h.length);
        for (int i = 0; i < h.length; i++) {
            assertThat(Float.floatToRawIntBits(out[i])).as("code %04x", i).isEqualTo(i << 16);
        }
    }

    @Test
    void offsetsAndRaggedLengthsTouchOnlyTheirRange() {
        float[] x = denseSample();
        Random rnd = new Random(11);
        for (int t = 0; t < 200; t++) {
            int n = rnd.nextInt(70);
            int s = rnd.nextInt(1000);
            int d = rnd.nextInt(50);
            short[] h = new short[d + n + 5];
            java.util.Arrays.fill(h, (short) 0x1234);
            Bf16Vectors.fromFloats(x, s, h, d, n);
            float[] back = new float[d + n + 5];
            java.util.Arrays.fill(back, 42f);
            Bf16Vectors.toFloats(h, d, back, d, n);
            for (int i = 0; i < h.length; i++) {
                boolean in = i >= d && i < d + n;
                assertThat(h[i]).isEqualTo(in ? Bf16.fromFloat(x[s + i - d]) : (short) 0x1234);
                assertThat(Float.floatToRawIntBits(back[i])).isEqualTo(Float.floatToRawIntBits(
                        in ? Bf16.toFloat(h[i]) : 42f));
            }
        }
    }
}
