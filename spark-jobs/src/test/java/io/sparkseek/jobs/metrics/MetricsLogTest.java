package io.sparkseek.jobs.metrics;

import io.sparkseek.jobs.Main;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsLogTest {

    @TempDir
    java.nio.file.Path tmp;

    static StageMetrics stage(long s) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        seconds.put("broadcast", 0.1);
        seconds.put("compute", 1.5);
        seconds.put("total", 1.7);
        Map<String, Double> vio = new LinkedHashMap<>();
        vio.put("model.layers.1.mlp", 1.0 / s);
        vio.put("model.layers.2.mlp", 0.5 / s);
        Map<String, long[]> load = new LinkedHashMap<>();
        load.put("model.layers.1.mlp", new long[]{10 + s, 20, 30, 40});
        load.put("model.layers.2.mlp", new long[]{25, 25, 25, 25});
        Map<String, double[]> bias = Map.of("model.layers.1.mlp", new double[]{-0.01 * s, 0.01 * s});
        boolean val = s % 5 == 0;
        return new StageMetrics(s, s * 4, 6.0 - 0.1 * s, val ? 6.1 - 0.1 * s : null, val ? Math.exp(6.1 - 0.1 * s) : null,
                val ? Map.of("model.layers.1.mlp", 0.2) : null, 3e-3, val ? null : 0.5, 2048, 1200 + s, seconds, vio,
                bias, load);
    }

    @Test
    void linesRoundTripAndAResumedRunDropsLaterStages() throws Exception {
        String run = tmp.resolve("run").toUri().toString();
        MetricsLog log = MetricsLog.open(run, new Configuration(), 0);
        for (int s = 1; s <= 12; s++) {
            log.append(stage(s));
        }
        FileSystem fs = FileSystem.getLocal(new Configuration()).getRaw();
        Path file = new Path(run, MetricsLog.FILE);
        List<StageMetrics> back = MetricsLog.read(fs, file);
        assertThat(back).hasSize(12);
        StageMetrics five = back.get(4);
        assertThat(five.valLoss()).isEqualTo(6.1 - 0.5);
        assertThat(five.gradNorm()).isNull();
        assertThat(five.expertLoad().get("model.layers.1.mlp")).containsExactly(15, 20, 30, 40);
        assertThat(Files.readAllLines(tmp.resolve("run/metrics.jsonl")).get(0)).doesNotContain("val_loss")
                .contains("\"tokens_per_s\":1201.0");
        assertThat(five.consoleLine(12)).startsWith("stage 5/12  step 20  loss 5.5000  val 5.6000")
                .contains("1205 tok/s").contains("maxvio 0.200 (global 0.200)").endsWith("[broadcast 0.10 compute 1.50 total 1.70 s]");

        MetricsLog.open(run, new Configuration(), 7);
        assertThat(MetricsLog.read(fs, file)).extracting(StageMetrics::stage).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);

        Files.writeString(tmp.resolve("run/metrics.jsonl"), "{\"stage\": 1}\nnot json\n");
        assertThatThrownBy(() -> MetricsLog.read(fs, file)).hasMessageContaining("metrics.jsonl:2: not a metrics line");
    }

    @Test
    void reportWritesFourNonBlankPngs() throws Exception {
        String run = tmp.resolve("run").toString();
        MetricsLog log = MetricsLog.open(run, new Configuration(), 0);
        for (int s = 1; s <= 30; s++) {
            log.append(stage(s));
        }
        assertThat(Main.run("report", run)).isZero();
        File dir = tmp.resolve("run/report").toFile();
        for (String name : List.of("loss.png", "tokens_per_s.png", "maxvio.png", "expert_load.png")) {
            BufferedImage img = ImageIO.read(new File(dir, name));
            assertThat(img).as(name).isNotNull();
            assertThat(img.getWidth()).isEqualTo(ReportCharts.WIDTH);
            Set<Integer> colors = new HashSet<>();
            for (int y = 0; y < img.getHeight(); y += 3) {
                for (int x = 0; x < img.getWidth(); x += 3) {
                    colors.add(img.getRGB(x, y));
                }
            }
            assertThat(colors.size()).as(name + " draws something").isGreaterThan(10);
        }
        assertThat(Main.run("report", tmp.resolve("nothing").toString())).isEqualTo(2);
    }
}
