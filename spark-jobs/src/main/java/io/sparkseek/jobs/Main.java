package io.sparkseek.jobs;

import io.sparkseek.jobs.cli.BenchModelCommand;
import io.sparkseek.jobs.cli.EvalCommand;
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
        subcommands = {PrepCommand.class, TrainCommand.class, InitCommand.class, EvalCommand.class, GradCommand.class, TrainLocalCommand.class,
                BenchModelCommand.class, TokensCommand.class, ReportCommand.class})
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

    private static String message(Throwable ex) {
        Optional<String> denied = AccessErrors.message(ex); // an S3 403: the path and the credentials' fault
        if (denied.isPresent()) {
            return denied.get();
        }
        String m = ex.getMessage();
        return m == null ? ex.getClass().getSimpleName() : m;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
