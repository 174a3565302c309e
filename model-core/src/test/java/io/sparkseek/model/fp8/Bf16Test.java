package io.sparkseek.model.fp8;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Bit-exact checks of {@link Bf16} (spec §8.7). */
class Bf16Test {

    private static short enc(int fp32Bits) {
        return Bf16.fromFloat(Float.intBitsToFloat(fp32Bits));
    }

    @Test
    void knownValues() {
        assertThat(Bf16.fromFloat(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(Bf16.fromFloat(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(Bf16.fromFloat(0.0f)).isEqualTo((short) 0x0000);
        assertThat(Bf16.fromFloat(-0.0f)).isEqualTo((short) 0x8000);
        assertThat(Bf16.toFloat((short) 0x3F80)).isEqualTo(1.0f);
        assertThat(Bf16.toFloat((short) 0x4049)).isEqualTo(3.140625f);
        assertThat(Bf16.fromFloat((float) Math.PI)).isEqualTo((short) 0x4049);
    }

    @Test
    void roundsToNearestTiesToEven() {
        assertThat(enc(0x3F808000)).isEqualTo((short) 0x3F80); // tie, even stays
        assertThat(enc(0x3F818000)).isEqualTo((short) 0x3F82); // tie, odd rounds up to even
        assertThat(enc(0x3F808001)).isEqualTo((short) 0x3F81); // above the tie
        assertThat(enc(0x3F807FFF)).isEqualTo((short) 0x3F80); // below the tie
        assertThat(enc(0xBF818000)).isEqualTo((short) 0xBF82); // sign symmetric
        assertThat(enc(0x3F7FFFFF)).isEqualTo((short) 0x3F80); // carry into the exponent
    }

    @Test
    void extremes() {
        assertThat(enc(0x7F7F0000)).isEqualTo((short) 0x7F7F);          // max bf16 exactly
        assertThat(Bf16.fromFloat(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // rounds up to +Inf
        assertThat(enc(0x7F7F7FFF)).isEqualTo((short) 0x7F7F);          // just below the overflow tie
        assertThat(Bf16.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7F80);
        assertThat(Bf16.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
        assertThat(Bf16.toFloat((short) 0x7F80)).isEqualTo(Float.POSITIVE_INFINITY);
        // subnormals are kept and rounded like normals
        assertThat(enc(0x00000001)).isEqualTo((short) 0x0000);
        assertThat(enc(0x00008000)).isEqualTo((short) 0x0000); // tie to even (0)
        assertThat(enc(0x00018000)).isEqualTo((short) 0x0002);
        assertThat(enc(0x00010000)).isEqualTo((short) 0x0001); // smallest bf16 subnormal
        assertThat(Bf16.toFloat((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
        assertThat(enc(0x007FFFFF)).isEqualTo((short) 0x0080);  // largest subnormal rounds to min normal
    }

    @Test
    void nanStaysQuietNan() {
        assertThat(Bf16.fromFloat(Float.NaN)).isEqualTo((short) 0x7FC0);
        // signalling NaN whose payload lives only in the low 16 bits must not become Inf
        short s = enc(0x7F800001);
        assertThat(s & 0xFFFF).isEqualTo(0x7FC0);
        assertThat(Float.isNaN(Bf16.toFloat(s))).isTrue();
        short neg = enc(0xFFA12345);
        assertThat(neg & 0xFFFF).isEqualTo(0xFFE1);
        assertThat(Float.isNaN(Bf16.round(Float.NaN))).isTrue();
    }

    @Test
    void allCodesRoundTrip() {
        int nans = 0;
        for (int code = 0; code < 0x10000; code++) {
            short bits = (short) code;
            float f = Bf16.toFloat(bits);
            if (Float.isNaN(f)) {
                nans++;
                assertThat(Float.isNaN(Bf16.round(f))).isTrue();
                continue;
            }
            assertThat(Bf16.fromFloat(f)).as("code 0x%04X", code).isEqualTo(bits);
            assertThat(Bf16.round(f)).isEqualTo(f);
        }
        assertThat(nans).isEqualTo(2 * 127);
    }

    @Test
    void arrayHelpers() {
        float[] x = {1.0f, Float.intBitsToFloat(0x3F818000), -0.0f, 1e-40f};
        short[] b = Bf16.fromFloats(x);
        assertThat(b).containsExactly((short) 0x3F80, (short) 0x3F82, (short) 0x8000, Bf16.fromFloat(1e-40f));
        float[] back = Bf16.toFloats(b);
        assertThat(back).containsExactly(Bf16.round(x[0]), Bf16.round(x[1]), Bf16.round(x[2]), Bf16.round(x[3]));
        assertThat(Bf16.round(x)).containsExactly(back);
        float[] y = x.clone();
        assertThat(Bf16.roundInPlace(y)).isSameAs(y).containsExactly(back);
    }
}
