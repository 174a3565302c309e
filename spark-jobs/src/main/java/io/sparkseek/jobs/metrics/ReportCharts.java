package io.sparkseek.jobs.metrics;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.awt.Paint;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run report's charts (JFreeChart), from the lines of {@code metrics.jsonl}: training and validation loss,
 * tokens/s, MaxVio per MoE layer (batch, and global where validation ran), and a heatmap of the last stage's expert
 * loads (layer × expert, load relative to the layer's mean).
 */
public final class ReportCharts {
    static final int WIDTH = 900;
    static final int HEIGHT = 500;

    private ReportCharts() {
    }

    /** Writes the four PNGs into {@code dir} and returns their files. */
    public static List<File> write(List<StageMetrics> stages, File dir) throws IOException {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("the run has no stages in metrics.jsonl yet");
        }
        System.setProperty("java.awt.headless", "true");
        if (!dir.isDirectory() && !dir.mkdirs()) {
            throw new IOException("cannot create " + dir);
        }
        List<File> out = new ArrayList<>();
        out.add(save(loss(stages), new File(dir, "loss.png")));
        out.add(save(throughput(stages), new File(dir, "tokens_per_s.png")));
        out.add(save(maxVio(stages), new File(dir, "maxvio.png")));
        out.add(save(expertLoad(stages.get(stages.size() - 1)), new File(dir, "expert_load.png")));
        return out;
    }

    static JFreeChart loss(List<StageMetrics> stages) {
        XYSeries train = new XYSeries("train loss");
        XYSeries val = new XYSeries("val loss");
        for (StageMetrics m : stages) {
            train.add(m.step(), m.loss());
            if (m.valLoss() != null) {
                val.add(m.step(), m.valLoss());
            }
        }
        return lines("Loss", "optimizer step", "cross-entropy (nats)", List.of(train, val), true);
    }

    static JFreeChart throughput(List<StageMetrics> stages) {
        XYSeries s = new XYSeries("tokens/s");
        for (StageMetrics m : stages) {
            s.add(m.step(), m.tokensPerSecond());
        }
        return lines("Training throughput", "optimizer step", "tokens per second", List.of(s), false);
    }

    static JFreeChart maxVio(List<StageMetrics> stages) {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (StageMetrics m : stages) {
            m.maxVio().forEach((layer, v) -> series.computeIfAbsent(layer + " batch", XYSeries::new).add(m.step(), v));
            if (m.maxVioGlobal() != null) {
                m.maxVioGlobal().forEach((layer, v) ->
                        series.computeIfAbsent(layer + " global (val)", XYSeries::new).add(m.step(), v));
            }
        }
        return lines("Load balance: MaxVio per MoE layer", "optimizer step", "MaxVio", new ArrayList<>(series.values()),
                false);
    }

    static JFreeChart expertLoad(StageMetrics last) {
        List<String> layers = new ArrayList<>(last.expertLoad().keySet());
        int experts = last.expertLoad().values().stream().mapToInt(a -> a.length).max().orElse(0);
        int n = layers.size() * experts;
        double[][] xyz = new double[3][n];
        double hi = 1;
        int i = 0;
        for (int l = 0; l < layers.size(); l++) {
            long[] counts = last.expertLoad().get(layers.get(l));
            double mean = java.util.Arrays.stream(counts).average().orElse(1);
            for (int e = 0; e < experts; e++) {
                double rel = e < counts.length && mean > 0 ? counts[e] / mean : 0;
                xyz[0][i] = e;
                xyz[1][i] = l;
                xyz[2][i] = rel;
                hi = Math.max(hi, rel);
                i++;
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("load / mean", xyz);
        NumberAxis x = new NumberAxis("expert");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        NumberAxis y = new NumberAxis("MoE layer (index in the order of " + String.join(", ", layers) + ")");
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYBlockRenderer renderer = new XYBlockRenderer();
        PaintScale scale = new BlueWhiteRed(hi);
        renderer.setPaintScale(scale);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        JFreeChart chart = new JFreeChart("Expert load at stage " + last.stage() + " (1.0 = the layer's mean)",
                JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        PaintScaleLegend legend = new PaintScaleLegend(scale, new NumberAxis("load / mean"));
        legend.setPosition(RectangleEdge.RIGHT);
        chart.addSubtitle(legend);
        return chart;
    }

    private static JFreeChart lines(String title, String xLabel, String yLabel, List<XYSeries> series,
                                    boolean shapesOnSecond) {
        XYSeriesCollection data = new XYSeriesCollection();
        series.stream().filter(s -> s.getItemCount() > 0).forEach(data::addSeries);
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        if (shapesOnSecond && data.getSeriesCount() > 1) {
            renderer.setSeriesShapesVisible(1, true);
        }
        XYPlot plot = new XYPlot(data, new NumberAxis(xLabel), y, renderer);
        return new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    }

    private static File save(JFreeChart chart, File file) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file, chart, WIDTH, HEIGHT);
        return file;
    }

    /** 0 → blue, 1 (the mean) → white, {@code hi} → red. */
    private record BlueWhiteRed(double hi) implements PaintScale {
        @Override
        public double getLowerBound() {
            return 0;
        }

        @Override
        public double getUpperBound() {
            return hi;
        }

        @Override
        public Paint getPaint(double v) {
            if (v <= 1) {
                float t = (float) Math.max(0, v);
                return new Color(t, t, 1f);
            }
            float t = (float) Math.min(1, (v - 1) / Math.max(1e-9, hi - 1));
            return new Color(1f, 1 - t, 1 - t);
        }
    }
}
