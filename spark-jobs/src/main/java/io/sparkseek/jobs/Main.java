package io.sparkseek.jobs;

import io.sparkseek.jobs.cli.BenchModelCommand;
import io.sparkseek.jobs.cli.EvalCommand;
import io.sparkseek.jobs.cli.ExportCommand;
import io.sparkseek.jobs.cli.GenerateCommand;
import io.sparkseek.jobs.cli.GradCommand;
import io.sparkseek.jobs.cli.InitCommand;
import io.sparkseek.jobs.cli.ReportCommand;
import io.sparkseek.jobs.cli.TrainCommand;
import io.sparkseek.jobs.cli.TokensCommand;
import io.sparkseek.jobs.cli.TrainLocalCommand;
import io.sparkseek.jobs.prep.PrepCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Optional;

/** Entry point of {@code scripts/sparkseek} (ARCHITECTURE §4). */
@Command(name = "sparkseek", mixinStandardHelpOptions = true, version = "sparkseek 0.1.0",
        description = "Pretrain DeepSeek-V3-style MoE models on Apache Spark.",
        subcommands = {PrepCommand.class, TrainCommand.class, ExportCommand.class, GenerateCommand.class,
                InitCommand.class, EvalCommand.class, GradCommand.class, TrainLocalCommand.class, BenchModelCommand.class,
                TokensCommand.class, ReportCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // A user error: one clear line, no stack trace (set SPARKSEEK_DEBUG=1 for it).
            cmd.getErr().println("sparkseek " + cmd.getCommandName() + ": " + message(ex));
            if (System.getenv("SPARKSEEK_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        return cli.execute(args);
    }

    /**
     * One line for the user. An S3 403 names the path and the credentials' fault. A Spark job that failed after
     * Spark's task retries carries the task's exception (or only its text) inside a long "Job aborted" message with
     * stack traces: report the task's own error instead.
     */
    static String message(Throwable ex) {
        Optional<String> denied = AccessErrors.message(ex);
        if (denied.isPresent()) {
            return denied.get();
        }
        String m = ex.getMessage();
        if (m == null) {
            return ex.getClass().getSimpleName();
        }
        if (ex instanceof org.apache.spark.SparkException && m.startsWith("Job aborted due to stage failure")) {
            Throwable root = ex;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String task = root != ex && root.getMessage() != null ? root.getClass().getSimpleName() + ": "
                    + root.getMessage() : taskError(m);
            return "a Spark task failed on every retry: " + Messages.firstLine(task);
        }
        return m;
    }

    /** From "...most recent failure: Lost task 0.3 in stage 0.0 (TID 4) (host executor 1): X: msg\n\tat ...". */
    private static String taskError(String sparkMessage) {
        int i = sparkMessage.indexOf("most recent failure: ");
        if (i < 0) {
            return sparkMessage;
        }
        String rest = sparkMessage.substring(i);
        int colon = rest.indexOf("): ");
        return colon < 0 ? rest : rest.substring(colon + 3);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
