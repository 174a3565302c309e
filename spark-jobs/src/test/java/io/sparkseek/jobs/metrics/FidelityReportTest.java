package io.sparkseek.jobs.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** {@link FidelityReport}: relative error, moving average, summary after warm-up, and the files it writes. */
class FidelityReportTest {

    @Test
    void movingAverageIsTrailingAndShorterAtTheStart() {
        assertThat(FidelityReport.movingAverage(new double[] {1, 2, 3, 4, 5}, 2))
                .containsExactly(1, 1.5, 2.5, 3.5, 4.5);
        assertThat(FidelityReport.movingAverage(new double[] {3, 3, 6}, 5)).containsExactly(3, 3, 4);
    }

    @Test
    void summarySkipsWarmUpAndComparesTheMovingAverageWithTheBound() {
        long[] steps = {1, 2, 3, 4, 5};
        double[] ref = {10, 8, 5, 4, 2};
        double[] test = {11, 8, 5.01, 3.996, 2.002};       // +10% in warm-up, then +0.2%, -0.1%, +0.1%
        FidelityReport r = new FidelityReport(steps, ref, test, 2, 2);
        assertThat(r.relative()[0]).isCloseTo(0.1, within(1e-12));
        assertThat(r.relative()[2]).isCloseTo(0.002, within(1e-12));
        Map<String, Object> s = r.summary(0.0025);
        assertThat((double) s.get("mean_relative_error")).isCloseTo((0.002 - 0.001 + 0.001) / 3, within(1e-12));
        assertThat((double) s.get("mean_abs_relative_error")).isCloseTo(0.004 / 3, within(1e-12));
        // moving average over 2: step 3 (0 + 0.002)/2, step 4 (0.002 - 0.001)/2, step 5 0
        assertThat((double) s.get("max_abs_moving_average")).isCloseTo(0.001, within(1e-12));
        assertThat(s.get("within_bound")).isEqualTo(true);
        assertThat(new FidelityReport(steps, ref, test, 1, 2).summary(0.0015).get("within_bound")).isEqualTo(false);
    }

    @Test
    void runsOfDifferentLengthsAreRejectedWithBothCounts() {
        assertThatThrownBy(() -> new FidelityReport(new long[] {1, 2}, new double[] {1, 2}, new double[] {1}, 1, 0))
                .hasMessageContaining("2 reference and 1 test");
        assertThatThrownBy(() -> new FidelityReport(new long[] {1}, new double[] {1}, new double[] {1}, 1, 1))
                .hasMessageContaining("train longer");
    }

    @Test
    void writesCurveSummaryAndCharts(@TempDir Path dir) throws IOException {
        new FidelityReport(new long[] {1, 2, 3}, new double[] {9, 8, 7}, new double[] {9, 8.01, 7}, 2, 1)
                .write(dir, "fp32", "fp8", 0.0025);
        assertThat(Files.readAllLines(dir.resolve("fidelity.jsonl"))).hasSize(3)
                .first().asString().contains("\"loss_fp32\":9.0", "\"loss_fp8\":9.0", "\"relative_error\":0.0");
        assertThat(Files.readString(dir.resolve("summary.json"))).contains("\"within_bound\" : true");
        for (String png : new String[] {"loss.png", "relative_error.png"}) {
            byte[] head = Files.readAllBytes(dir.resolve(png));
            assertThat(head.length).isGreaterThan(1000);
            assertThat(new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
        }
    }
}
