package io.sparkseek.model.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Bit-exact checks of the F16 helper used for safetensors F16 tensors. */
class HalfTest {

    @Test
    void knownValues() {
        assertThat(Half.fromFloat(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(Half.fromFloat(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(Half.fromFloat(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(Half.fromFloat(65519f)).isEqualTo((short) 0x7BFF);
        assertThat(Half.fromFloat(65520f)).isEqualTo((short) 0x7C00); // tie rounds to even = Inf
        assertThat(Half.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFC00);
        assertThat(Half.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001);
        assertThat(Half.fromFloat(0x1p-25f)).isEqualTo((short) 0x0000);      // tie to even
        assertThat(Half.fromFloat(3 * 0x1p-25f)).isEqualTo((short) 0x0002);  // tie to even
        assertThat(Half.fromFloat(1 + 0x1p-11f)).isEqualTo((short) 0x3C00);  // tie to even
        assertThat(Half.fromFloat(1 + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
        assertThat(Half.fromFloat(0x1p-14f - 0x1p-26f)).isEqualTo((short) 0x0400); // rounds up to min normal
        assertThat(Half.fromFloat(Float.NaN) & 0x7E00).isEqualTo(0x7E00);
        assertThat(Half.toFloat((short) 0x3555)).isEqualTo(0.33325195f);
        assertThat(Half.toFloat((short) 0x8001)).isEqualTo(-0x1p-24f);
    }

    @Test
    void allCodesRoundTrip() {
        for (int code = 0; code < 0x10000; code++) {
            float f = Half.toFloat((short) code);
            if (Float.isNaN(f)) {
                assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(f)))).isTrue();
                continue;
            }
            assertThat(Half.fromFloat(f)).as("code 0x%04X", code).isEqualTo((short) code);
        }
    }
}
