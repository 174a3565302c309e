package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import io.sparkseek.model.train.SyntheticTokens;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared base of the stage-loop tests: one real {@code local[2,2]} SparkSession per class (2 task threads, and
 * {@code spark.task.maxFailures} 2 so an injected task failure is retried once), the tiny model preset, and a
 * {@link RunConfig} builder with test-sized defaults.
 */
abstract class SparkTrainTestBase {
    static final int SEQ_LEN = 32;
    static final int PERIOD = 48;

    static SparkSession spark;
    static JavaSparkContext sc;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2,2]").appName("stage-runner-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .getOrCreate();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.stop();
            spark = null;
            sc = null;
        }
    }

    /** conf/models/tiny.json, found by walking up from the working directory to the repo root. */
    static ModelConfig tiny() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("conf/models"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no conf/models above " + Path.of("").toAbsolutePath());
        }
        try {
            return ModelConfig.read(dir.resolve("conf/models/tiny.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SyntheticRowSource pattern(long seed) {
        return new SyntheticRowSource(SyntheticTokens.Kind.PATTERN, tiny().vocabSize(), PERIOD, seed);
    }

    /** A mutable recipe for a RunConfig, test-sized (one compute thread per task). */
    static final class Run {
        RunConfig.Mode mode = RunConfig.Mode.SYNC;
        int replicas = 2;
        int localSteps = 1;
        long stages = 4;
        int batchSize = 4;
        long seed = 7;
        String precision = "fp32";
        double lr = 3e-3;
        double minLr = 3e-4;
        long warmupSteps = 2;
        double gradClip = 1.0;
        RunConfig.InnerState innerState = RunConfig.InnerState.RESET;
        double outerLr = 0.7;
        double outerMomentum = 0.9;
        float gamma = 1e-3f;
        boolean recenter = false;
        float alpha = 1e-4f;

        Run mode(RunConfig.Mode m, int h) {
            mode = m;
            localSteps = h;
            return this;
        }

        Run replicas(int r) {
            replicas = r;
            return this;
        }

        Run stages(long s) {
            stages = s;
            return this;
        }

        Run gamma(float g) {
            gamma = g;
            return this;
        }

        Run recenter(boolean r) {
            recenter = r;
            return this;
        }

        Run inner(RunConfig.InnerState s) {
            innerState = s;
            return this;
        }

        Run lr(double peak, double min, long warmup) {
            lr = peak;
            minLr = min;
            warmupSteps = warmup;
            return this;
        }

        Run batch(int b) {
            batchSize = b;
            return this;
        }

        RunConfig build() {
            return new RunConfig(mode, replicas, localSteps, stages, batchSize, seed, precision, lr, minLr,
                    warmupSteps, gradClip, innerState, outerLr, outerMomentum, gamma, recenter, alpha, 0, 0, 0, 1,
                    "java", 1);
        }
    }

    /** Runs every stage of {@code run}; returns the stage results (the runner keeps the final state). */
    static List<StageResult> runAll(StageRunner runner, RunConfig run) {
        List<StageResult> out = new ArrayList<>();
        for (long s = 0; s < run.stages(); s++) {
            out.add(runner.runStage(sc, s));
        }
        return out;
    }

    /** max |a − b| / max |a| over every weight of two models (and their routing biases). */
    static double maxRelDiff(DeepSeekModel a, DeepSeekModel b) {
        double diff = 0;
        double scale = 0;
        for (Param p : a.params()) {
            float[] x = p.w();
            float[] y = b.param(p.name()).w();
            for (int i = 0; i < x.length; i++) {
                diff = Math.max(diff, Math.abs(x[i] - y[i]));
                scale = Math.max(scale, Math.abs(x[i]));
            }
        }
        return diff / scale;
    }

    /** ||a − b||₂ / ||a||₂ over every weight of two models, in double. */
    static double l2RelDiff(DeepSeekModel a, DeepSeekModel b) {
        double diff = 0;
        double norm = 0;
        for (Param p : a.params()) {
            float[] x = p.w();
            float[] y = b.param(p.name()).w();
            for (int i = 0; i < x.length; i++) {
                double d = (double) x[i] - y[i];
                diff += d * d;
                norm += (double) x[i] * x[i];
            }
        }
        return Math.sqrt(diff / norm);
    }

    /** Whether every weight and routing bias of the two models is bit-identical. */
    static boolean bitIdentical(DeepSeekModel a, DeepSeekModel b) {
        for (Param p : a.params()) {
            if (!java.util.Arrays.equals(p.w(), b.param(p.name()).w())) {
                return false;
            }
        }
        for (var e : a.routerBiases().entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), b.routerBiases().get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
