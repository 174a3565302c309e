package io.sparkseek.jobs.cli;

import io.sparkseek.jobs.metrics.MetricsLog;
import io.sparkseek.jobs.metrics.ReportCharts;
import io.sparkseek.jobs.metrics.StageMetrics;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code report RUN [--out DIR]}: PNG charts of a training run from its {@code metrics.jsonl}. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Draw a run's loss, tokens/s and per-layer MaxVio curves and an expert-load heatmap (PNG).")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN", description = "the run directory (local, hdfs:// or s3a://)")
    String run;

    @Option(names = "--out", paramLabel = "DIR", description = "where to write the PNGs (default: RUN/report, local runs "
            + "only; required for remote runs)")
    File out;

    @Override
    public Integer call() throws Exception {
        Path runPath = new Path(run);
        Configuration conf = new Configuration();
        FileSystem fs = runPath.getFileSystem(conf);
        Path metrics = new Path(runPath, MetricsLog.FILE);
        if (!fs.exists(metrics)) {
            throw new IllegalArgumentException(metrics + " does not exist: is " + run + " a training run directory?");
        }
        List<StageMetrics> stages = MetricsLog.read(fs, metrics);
        File dir = out;
        if (dir == null) {
            if (!"file".equals(fs.getUri().getScheme())) {
                throw new IllegalArgumentException("give --out DIR for a run on " + fs.getUri());
            }
            dir = new File(new File(runPath.toUri().getPath()), "report");
        }
        for (File f : ReportCharts.write(stages, dir)) {
            System.out.println("wrote " + f);
        }
        return 0;
    }
}
