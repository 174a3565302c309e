package io.sparkseek.jobs.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The loss gap between a low-precision run and its reference run on the same data and initial weights (issue 8;
 * DeepSeek-V3 §3.3.4 reports a relative loss error below 0.25% of FP8 against BF16). Per step
 * {@code rel_t = (L_test,t − L_ref,t) / L_ref,t}, both losses of the same batch; the curve-level figure is the
 * trailing moving average of {@code rel} over {@code window} steps (single batches scatter too much to compare
 * per step), and the run passes when its largest magnitude after {@code skip} warm-up steps is below the bound.
 *
 * @param step      1-based step numbers
 * @param reference loss of the reference (e.g. FP32) run at each step
 * @param test      loss of the run under test (e.g. FP8) at each step
 * @param window    moving-average length in steps
 * @param skip      steps left out of the summary at the start (learning-rate warm-up, fast initial fall)
 */
public record FidelityReport(long[] step, double[] reference, double[] test, int window, int skip) {

    public FidelityReport {
        if (reference.length != test.length || step.length != reference.length) {
            throw new IllegalArgumentException("fidelity: " + step.length + " steps, " + reference.length
                    + " reference and " + test.length + " test losses: the two runs must cover the same steps");
        }
        if (window < 1 || skip < 0) {
            throw new IllegalArgumentException("fidelity: window must be >= 1 and skip >= 0, got " + window + ", "
                    + skip);
        }
        if (skip >= reference.length) {
            throw new IllegalArgumentException("fidelity: skipping " + skip + " warm-up steps leaves none of the "
                    + reference.length + ": train longer or skip fewer");
        }
    }

    /** {@code (test − reference) / reference} at each step. */
    public double[] relative() {
        double[] r = new double[reference.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (test[i] - reference[i]) / reference[i];
        }
        return r;
    }

    /** Trailing moving average of {@code x} over {@code window} values (fewer at the start). */
    public static double[] movingAverage(double[] x, int window) {
        double[] out = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += x[i];
            if (i >= window) {
                sum -= x[i - window];
            }
            out[i] = sum / Math.min(i + 1, window);
        }
        return out;
    }

    /** Summary after the {@code skip} first steps: mean signed and absolute per-step error, the moving average's
     *  largest magnitude and its value at the end, and the losses at the last step. */
    public Map<String, Object> summary(double bound) {
        double[] rel = relative();
        double[] ma = movingAverage(rel, window);
        double sum = 0;
        double abs = 0;
        double maxMa = 0;
        double maxAbs = 0;
        for (int i = skip; i < rel.length; i++) {
            sum += rel[i];
            abs += Math.abs(rel[i]);
            maxAbs = Math.max(maxAbs, Math.abs(rel[i]));
            maxMa = Math.max(maxMa, Math.abs(ma[i]));
        }
        int n = rel.length - skip;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", rel.length);
        m.put("skipped_steps", skip);
        m.put("window", window);
        m.put("mean_relative_error", sum / n);
        m.put("mean_abs_relative_error", abs / n);
        m.put("max_abs_relative_error_per_step", maxAbs);
        m.put("max_abs_moving_average", maxMa);
        m.put("final_moving_average", ma[ma.length - 1]);
        m.put("final_reference_loss", reference[reference.length - 1]);
        m.put("final_test_loss", test[test.length - 1]);
        m.put("bound", bound);
        m.put("within_bound", maxMa < bound);
        return m;
    }

    /** Writes {@code fidelity.jsonl} (one line per step), {@code summary.json}, {@code loss.png} and
     *  {@code relative_error.png} into {@code dir}. */
    public void write(Path dir, String referenceName, String testName, double bound) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        double[] rel = relative();
        double[] ma = movingAverage(rel, window);
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("fidelity.jsonl"), StandardCharsets.UTF_8)) {
            for (int i = 0; i < rel.length; i++) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("step", step[i]);
                line.put("loss_" + referenceName, reference[i]);
                line.put("loss_" + testName, test[i]);
                line.put("relative_error", rel[i]);
                line.put("relative_error_ma" + window, ma[i]);
                w.write(json.writeValueAsString(line));
                w.newLine();
            }
        }
        Files.writeString(dir.resolve("summary.json"), json.writerWithDefaultPrettyPrinter()
                .writeValueAsString(summary(bound)) + "\n");
        System.setProperty("java.awt.headless", "true");
        XYSeries a = new XYSeries(referenceName + " loss");
        XYSeries b = new XYSeries(testName + " loss");
        XYSeries r = new XYSeries("per step");
        XYSeries s = new XYSeries(window + "-step moving average");
        for (int i = 0; i < rel.length; i++) {
            a.add(step[i], reference[i]);
            b.add(step[i], test[i]);
            r.add(step[i], 100 * rel[i]);
            s.add(step[i], 100 * ma[i]);
        }
        save(chart("Training loss, same data and initial weights", "loss (nats)", a, b), dir.resolve("loss.png"));
        JFreeChart err = chart("Relative loss error (" + testName + " − " + referenceName + ") / " + referenceName,
                "relative error (%)", r, s);
        XYPlot plot = err.getXYPlot();
        for (double v : new double[] {100 * bound, -100 * bound}) {
            ValueMarker mk = new ValueMarker(v, Color.GRAY, new BasicStroke(1f, BasicStroke.CAP_BUTT,
                    BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
            plot.addRangeMarker(mk);
        }
        plot.getRenderer().setSeriesPaint(0, new Color(160, 160, 220));
        plot.getRenderer().setSeriesPaint(1, Color.RED);
        save(err, dir.resolve("relative_error.png"));
    }

    private static JFreeChart chart(String title, String yLabel, XYSeries first, XYSeries second) {
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(first);
        data.addSeries(second);
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(data, new NumberAxis("step"), y, new XYLineAndShapeRenderer(true, false));
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static void save(JFreeChart chart, Path file) throws IOException {
        ChartUtils.saveChartAsPNG(file.toFile(), chart, ReportCharts.WIDTH, ReportCharts.HEIGHT);
    }
}
