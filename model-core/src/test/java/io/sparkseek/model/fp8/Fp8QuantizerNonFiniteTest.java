package io.sparkseek.model.fp8;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Fp8QuantizerNonFiniteTest {

    @Test
    void nanOrInfinityIsAClearErrorNamingTheTile() {
        float[] x = new float[4 * 300];
        x[2 * 300 + 200] = Float.NaN;
        assertThatThrownBy(() -> QuantizedMatrix.quantize(x, 4, 300, 1, 128, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rows [2, 3)").hasMessageContaining("columns [128, 256)")
                .hasMessageContaining("NaN or Inf");
        float[] y = new float[4 * 300];
        y[7] = Float.NEGATIVE_INFINITY;
        assertThatThrownBy(() -> QuantizedMatrix.quantize(y, 4, 300, 128, 128, true))
                .hasMessageContaining("rows [0, 4)").hasMessageContaining("columns [0, 128)");
    }
}
