package io.sparkseek.it;

import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real S3 API server on 127.0.0.1 for integration tests: S3Proxy in its own JVM, started through
 * {@code scripts/s3-server} (the same jars, backend and settings users get), on a free port, storing its buckets
 * under a temporary directory, with a random secret key per instance.
 *
 * <pre>{@code
 * try (S3Server s3 = S3Server.start()) {
 *     Path p = new Path(s3.uri("dir/file.txt"));             // s3a://sparkseek/dir/file.txt
 *     try (FileSystem fs = p.getFileSystem(s3.hadoopConf())) {
 *         ...
 *     }
 *     Map<String, String> spark = s3.sparkConf();            // spark.hadoop.fs.s3a.* for a SparkConf
 *     List<String> args = s3.sparkConfArgs();                // "--conf", "spark.hadoop.fs.s3a.endpoint=...", ...
 *     s3.restart();                                          // same port and storage
 * }
 * }</pre>
 *
 * <p>API: {@link #start()}, {@link #start(String)}; {@link #stop()}, {@link #restart()}, {@link #close()};
 * {@link #bucket()}, {@link #uri(String)}, {@link #port()}, {@link #endpoint()}, {@link #storageDir()},
 * {@link #logFile()}; {@link #hadoopConf()}, {@link #sparkConf()}, {@link #sparkConfArgs()}, {@link #s3aSettings()};
 * {@link #accessKey()}, {@link #secretKey()}.
 *
 * <p>The settings ({@link #s3aSettings()}) are the ones S3A needs with this server (docs/data-prep.md, "S3
 * (s3a://)"): endpoint, path-style access, no TLS, region us-east-1, no version-id change detection, no bulk delete
 * (S3Proxy answers 501 to the SDK's checksummed DeleteObjects), the fixture's key pair through
 * {@code SimpleAWSCredentialsProvider} (never the environment or an instance profile), and small retry counts and
 * timeouts so that a stopped server fails an operation within seconds. They also disable Hadoop's FileSystem cache
 * for {@code s3a://} ({@code fs.s3a.impl.disable.cache}): the cache is keyed by bucket name only, so a cached
 * instance would outlive its server and carry its endpoint and keys into the next test in the same JVM. Every
 * {@code FileSystem.get} therefore makes a new instance: close the ones you make.
 *
 * <p>A bucket is a directory of {@link #storageDir()}; {@link #start()} creates {@link #DEFAULT_BUCKET}.
 * {@link #close()} stops the server and deletes the temporary directory. A JVM shutdown hook stops a server that
 * a test left running.
 */
public final class S3Server implements AutoCloseable {
    /** The bucket {@link #start()} creates. */
    public static final String DEFAULT_BUCKET = "sparkseek";
    /** The access key of every fixture server (not a secret; the secret key is random per instance). */
    public static final String ACCESS_KEY = "sparkseek-test";
    /** How long {@code scripts/s3-server start} may take (it builds tools/s3proxy if its jars are missing). */
    private static final long START_TIMEOUT_SECONDS = 180;

    private final Path home;
    private final String bucket;
    private final String secret;
    private final Thread shutdownHook;
    private int port;
    private boolean running;

    private S3Server(Path home, String bucket, String secret) {
        this.home = home;
        this.bucket = bucket;
        this.secret = secret;
        this.shutdownHook = new Thread(this::stopQuietly, "s3-server-stop");
    }

    /** A server with the bucket {@value #DEFAULT_BUCKET}, on a free port, in a new temporary directory. */
    public static S3Server start() throws IOException {
        return start(DEFAULT_BUCKET);
    }

    /** A server with the bucket {@code bucket} (a valid S3 bucket name), on a free port, in a new temp directory. */
    public static S3Server start(String bucket) throws IOException {
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        S3Server s = new S3Server(Files.createTempDirectory("sparkseek-s3-"), bucket,
                "s3test-" + HexFormat.of().formatHex(random));
        try {
            s.run(0);
        } catch (IOException | RuntimeException e) {
            deleteTree(s.home);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(s.shutdownHook);
        return s;
    }

    /** Stops the server (waiting until its process has exited); the storage stays. A stopped server may restart. */
    public void stop() {
        if (!running) {
            return;
        }
        script(List.of("stop", "--state", state().toString()), 60);
        running = false;
    }

    /** Stops the server if it runs and starts it again on the same port with the same storage and keys. */
    public void restart() throws IOException {
        stop();
        run(port);
    }

    /** The bucket created at start. */
    public String bucket() {
        return bucket;
    }

    /** {@code s3a://BUCKET/key}; {@code key} is relative ({@code "runs/r1"}), leading slashes are dropped. */
    public String uri(String key) {
        String k = key;
        while (k.startsWith("/")) {
            k = k.substring(1);
        }
        return "s3a://" + bucket + "/" + k;
    }

    /** The port on 127.0.0.1; fixed for the fixture's life (restarts keep it). */
    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** The server's storage: one directory per bucket, one file per object. */
    public Path storageDir() {
        return home.resolve("data");
    }

    /** S3Proxy's log (INFO). */
    public Path logFile() {
        return state().resolve("s3proxy.log");
    }

    /** The access key ({@value #ACCESS_KEY}). */
    public String accessKey() {
        return ACCESS_KEY;
    }

    /** The secret key: random per instance, so a test can check it leaks nowhere. */
    public String secretKey() {
        return secret;
    }

    /**
     * Every S3A setting for this server as {@code fs.s3a.*} keys, in a fixed order, secret included: what
     * {@link #hadoopConf()}, {@link #sparkConf()} and {@link #sparkConfArgs()} are made of.
     */
    public Map<String, String> s3aSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("fs.s3a.endpoint", endpoint());
        m.put("fs.s3a.endpoint.region", "us-east-1");
        m.put("fs.s3a.path.style.access", "true");
        m.put("fs.s3a.connection.ssl.enabled", "false");
        m.put("fs.s3a.change.detection.version.required", "false");
        m.put("fs.s3a.multiobjectdelete.enable", "false");
        m.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        m.put("fs.s3a.access.key", ACCESS_KEY);
        m.put("fs.s3a.secret.key", secret);
        // a dead or refusing server fails an operation in seconds, not minutes
        m.put("fs.s3a.attempts.maximum", "1");
        m.put("fs.s3a.retry.limit", "1");
        m.put("fs.s3a.retry.interval", "100ms");
        m.put("fs.s3a.retry.throttle.limit", "1");
        m.put("fs.s3a.retry.throttle.interval", "100ms");
        m.put("fs.s3a.connection.establish.timeout", "15s"); // S3A raises anything lower to 15 s
        m.put("fs.s3a.connection.timeout", "15s");
        m.put("fs.s3a.impl.disable.cache", "true");
        return Collections.unmodifiableMap(m);
    }

    /** A new Hadoop Configuration (defaults loaded) with {@link #s3aSettings()}. */
    public Configuration hadoopConf() {
        Configuration conf = new Configuration();
        s3aSettings().forEach(conf::set);
        return conf;
    }

    /** {@link #s3aSettings()} as Spark properties: {@code spark.hadoop.fs.s3a.*}. */
    public Map<String, String> sparkConf() {
        Map<String, String> m = new LinkedHashMap<>();
        s3aSettings().forEach((k, v) -> m.put("spark.hadoop." + k, v));
        return Collections.unmodifiableMap(m);
    }

    /** {@link #sparkConf()} as spark-submit arguments: {@code "--conf", "spark.hadoop.fs.s3a.endpoint=...", ...}. */
    public List<String> sparkConfArgs() {
        List<String> args = new ArrayList<>();
        sparkConf().forEach((k, v) -> {
            args.add("--conf");
            args.add(k + "=" + v);
        });
        return List.copyOf(args);
    }

    /**
     * Runs the CLI in-process ({@link Cli#run}) with this server's settings as {@code spark.hadoop.fs.s3a.*} system
     * properties, as an embedded run gets them from {@code SPARKSEEK_JAVA_OPTS}, then removes them.
     */
    Cli.Result cli(String... args) {
        return cli(Map.of(), args);
    }

    /** As {@link #cli(String...)}, with {@code overrides} (Spark property → value) replacing or adding settings. */
    Cli.Result cli(Map<String, String> overrides, String... args) {
        Map<String, String> props = new LinkedHashMap<>(sparkConf());
        props.putAll(overrides);
        props.forEach(System::setProperty);
        try {
            return Cli.run(args);
        } finally {
            props.keySet().forEach(System::clearProperty);
        }
    }

    /** Stops the server and deletes its temporary directory (storage and logs). */
    @Override
    public void close() {
        try {
            stop();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            deleteTree(home);
        }
    }

    private Path state() {
        return home.resolve("state");
    }

    private void run(int requestedPort) throws IOException {
        script(List.of("start", "--port", Integer.toString(requestedPort), "--dir", storageDir().toString(),
                "--bucket", bucket, "--state", state().toString()), START_TIMEOUT_SECONDS);
        port = Integer.parseInt(Files.readString(state().resolve("port"), StandardCharsets.UTF_8).strip());
        running = true;
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException ignored) {
            // JVM shutdown: nothing left to report to
        }
    }

    /** Runs {@code scripts/s3-server ARGS} with this fixture's keys; a failure is an exception with its output. */
    private void script(List<String> args, long timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Cli.repoRoot().resolve("scripts/s3-server").toString());
        cmd.addAll(args);
        try {
            Path out = Files.createTempFile(home, "s3-server-", ".out");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("S3_SERVER_ACCESS_KEY", ACCESS_KEY);
            pb.environment().put("S3_SERVER_SECRET_KEY", secret);
            Process p = pb.start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            Files.delete(out);
            if (!done || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + (done ? " failed (exit " + p.exitValue()
                        + ")" : " did not finish in " + timeoutSeconds + " s") + ":\n" + text);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd, e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + dir, e);
        }
    }
}
