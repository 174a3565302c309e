package io.sparkseek.jobs.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Builds a {@link RunConfig} from the layers of ARCHITECTURE §5. For each {@code sparkseek.*} key the first layer
 * that sets it wins:
 * <ol>
 *   <li>a CLI flag of the {@code train} command (passed here under its {@code sparkseek.*} key);</li>
 *   <li>a {@code --conf} / Spark conf pair: with spark-submit, Spark passes on only {@code spark.*} keys, so
 *       {@code spark.sparkseek.X} is read as {@code sparkseek.X} (both spellings are accepted; see
 *       {@link #sparkConfPairs(Map)});</li>
 *   <li>the properties file given to the job, if any;</li>
 *   <li>{@code conf/sparkseek-defaults.conf} ({@link #loadDefaults()}), which defines every key.</li>
 * </ol>
 * Every layer is checked before anything is resolved: an unknown {@code sparkseek.*} key is an error naming the key,
 * its layer and the closest known key; an ill-typed value is an error naming the key, the value, its layer and the
 * expected type or choices. Choices are case-insensitive. {@link RunConfig}'s own checks (ranges, combinations)
 * run once on the merged values, and their messages say which layer each value involved came from.
 *
 * <p>{@link #asMap} / {@link #fromMap} turn a config into its {@code key -> value} strings and back, in the fixed
 * order of the defaults file, for printing at start and storing in checkpoints.
 */
public final class RunConfigLoader {
    /** The name of the defaults file in the {@code conf} directory. */
    public static final String DEFAULTS_FILE = "sparkseek-defaults.conf";
    /** The prefix of every run setting. */
    public static final String PREFIX = "sparkseek.";
    /** The prefix under which spark-submit {@code --conf} passes a run setting on: {@code spark.sparkseek.}. */
    public static final String SPARK_PREFIX = "spark." + PREFIX;
    /** The system property holding the repository root (set by the launcher and by Surefire). */
    public static final String ROOT_PROPERTY = "sparkseek.root";

    /** Layer name of CLI flags in error messages and origins. */
    public static final String CLI = "CLI flag";
    /** Layer name of {@code --conf} / Spark conf pairs in error messages and origins. */
    public static final String CONF = "--conf";
    /** Layer name of the defaults map passed to {@link #resolve}. */
    public static final String DEFAULTS = "defaults";

    /** The typed kinds of values; the parse errors name them. */
    private enum Kind {
        INT("an integer (a 32-bit whole number such as 2)"),
        LONG("an integer (a 64-bit whole number such as 200)"),
        DOUBLE("a decimal number (such as 0.7 or 3e-4)"),
        FLOAT("a decimal number (such as 1e-3)"),
        BOOLEAN("true or false"),
        CHOICE("one of the choices");

        final String expected;

        Kind(String expected) {
            this.expected = expected;
        }
    }

    /** One setting: its key, kind, choices (for CHOICE) and how to read it back from a RunConfig. */
    private record Setting(String key, Kind kind, List<String> choices, Function<RunConfig, Object> get) {
    }

    /** The settings in the order of the defaults file (and of RunConfig's components). */
    private static final List<Setting> SETTINGS = List.of(
            choice("sparkseek.train.mode", RunConfig::mode, "sync", "local"),
            of("sparkseek.train.replicas", Kind.INT, RunConfig::replicas),
            of("sparkseek.train.localSteps", Kind.INT, RunConfig::localSteps),
            of("sparkseek.train.stages", Kind.LONG, RunConfig::stages),
            of("sparkseek.train.batchSize", Kind.INT, RunConfig::batchSize),
            of("sparkseek.train.seed", Kind.LONG, RunConfig::seed),
            choice("sparkseek.train.precision", RunConfig::precision, "fp32", "fp8"),
            of("sparkseek.train.lr", Kind.DOUBLE, RunConfig::lr),
            of("sparkseek.train.minLr", Kind.DOUBLE, RunConfig::minLr),
            of("sparkseek.train.warmupSteps", Kind.LONG, RunConfig::warmupSteps),
            of("sparkseek.train.gradClip", Kind.DOUBLE, RunConfig::gradClip),
            choice("sparkseek.train.innerState", RunConfig::innerState, "reset", "carry"),
            of("sparkseek.train.outerLr", Kind.DOUBLE, RunConfig::outerLr),
            of("sparkseek.train.outerMomentum", Kind.DOUBLE, RunConfig::outerMomentum),
            of("sparkseek.balance.gamma", Kind.FLOAT, RunConfig::balanceGamma),
            of("sparkseek.balance.recenter", Kind.BOOLEAN, RunConfig::balanceRecenter),
            of("sparkseek.balance.alpha", Kind.FLOAT, RunConfig::balanceAlpha),
            of("sparkseek.eval.every", Kind.LONG, RunConfig::evalEvery),
            of("sparkseek.eval.batches", Kind.INT, RunConfig::evalBatches),
            of("sparkseek.checkpoint.every", Kind.LONG, RunConfig::checkpointEvery),
            of("sparkseek.checkpoint.keep", Kind.INT, RunConfig::checkpointKeep),
            choice("sparkseek.compute.backend", RunConfig::computeBackend, "auto", "opencl", "java"),
            of("sparkseek.compute.threads", Kind.INT, RunConfig::computeThreads));

    private static final Map<String, Setting> BY_KEY = indexByKey();

    /** Every {@code sparkseek.*} key, in the order of the defaults file. */
    public static final List<String> KEYS = SETTINGS.stream().map(Setting::key).toList();

    /** A plain decimal number: no hex, no NaN/Infinity, no Java suffixes such as {@code 1d}. */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private RunConfigLoader() {
    }

    /**
     * A resolved config with, for every key, the layer its value came from ({@link #CLI}, {@link #CONF},
     * {@code "properties file PATH"} or {@link #DEFAULTS}).
     */
    public record Resolution(RunConfig config, Map<String, String> origins) {
        /** One line per key: {@code key = value  (origin)}, in the order of the defaults file. */
        public String describe() {
            return RunConfigLoader.describe(config, origins);
        }
    }

    // ---- resolving ----

    /**
     * The run config from the four layers: CLI flag > {@code --conf} / Spark conf > properties file > defaults.
     *
     * @param cliFlags       values the {@code train} command's flags set, keyed by their {@code sparkseek.*} key
     * @param confPairs      {@code --conf} / Spark conf pairs, keyed {@code sparkseek.X} or {@code spark.sparkseek.X}
     *                       (pick them out of a SparkConf with {@link #sparkConfPairs(Map)})
     * @param propertiesFile a Java properties file of {@code sparkseek.*} keys; its {@code spark.*} keys (other than
     *                       {@code spark.sparkseek.*}) are Spark's and ignored here
     * @param defaults       the defaults, normally {@link #loadDefaults()}; must define every key
     * @throws IllegalArgumentException naming the key, layer and fix, for an unknown key, an ill-typed value, a key
     *                                  no layer sets, or a value RunConfig rejects
     */
    public static RunConfig resolve(Map<String, String> cliFlags, Map<String, String> confPairs,
                                    Optional<Path> propertiesFile, Map<String, String> defaults) {
        return resolveWithOrigins(cliFlags, confPairs, propertiesFile, defaults).config();
    }

    /** {@link #resolve}, also saying where each value came from (for {@link #describe}). */
    public static Resolution resolveWithOrigins(Map<String, String> cliFlags, Map<String, String> confPairs,
                                                Optional<Path> propertiesFile, Map<String, String> defaults) {
        // Highest precedence first; each layer is checked in full before merging.
        List<Map.Entry<String, Map<String, String>>> layers = new ArrayList<>();
        layers.add(Map.entry(CLI, checkLayer(cliFlags, CLI)));
        layers.add(Map.entry(CONF, checkLayer(normalizeConfPairs(confPairs), CONF)));
        if (propertiesFile.isPresent()) {
            Path file = propertiesFile.get().toAbsolutePath();
            String layer = "properties file " + file;
            layers.add(Map.entry(layer, checkLayer(fileSettings(readProperties(file, "properties file"), layer),
                    layer)));
        }
        layers.add(Map.entry(DEFAULTS, checkLayer(defaults, DEFAULTS)));

        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        List<String> unset = new ArrayList<>();
        for (String key : KEYS) {
            for (Map.Entry<String, Map<String, String>> layer : layers) {
                String v = layer.getValue().get(key);
                if (v != null) {
                    values.put(key, v);
                    origins.put(key, layer.getKey());
                    break;
                }
            }
            if (!values.containsKey(key)) {
                unset.add(key);
            }
        }
        if (!unset.isEmpty()) {
            throw new IllegalArgumentException("no value for " + String.join(", ", unset) + " in any layer ("
                    + CLI + ", " + CONF + ", properties file, " + DEFAULTS + "); conf/" + DEFAULTS_FILE
                    + " must define every sparkseek.* key");
        }
        return new Resolution(build(values, origins), Collections.unmodifiableMap(origins));
    }

    // ---- Spark conf ----

    /**
     * The run settings among a SparkConf's pairs ({@code sparkConf.getAll()}): {@code spark.sparkseek.X} (how
     * spark-submit {@code --conf} passes them on, since Spark drops {@code --conf} keys outside {@code spark.*})
     * and {@code sparkseek.X}, both returned as {@code sparkseek.X}. Other keys are Spark's and left out, except
     * one that looks like a misspelt run setting (e.g. {@code spark.sparkseak.train.lr}), which is an error.
     *
     * @throws IllegalArgumentException for a misspelt key, or a key given in both spellings with different values
     */
    public static Map<String, String> sparkConfPairs(Map<String, String> sparkConf) {
        Map<String, String> picked = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : sparkConf.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(SPARK_PREFIX) || key.startsWith(PREFIX)) {
                picked.put(key, e.getValue());
            } else if (key.startsWith("spark.")) {
                String bare = key.substring("spark.".length());
                String near = closestKey(bare);
                if (near != null && distance(bare.toLowerCase(Locale.ROOT),
                        near.toLowerCase(Locale.ROOT)) <= 2 && bare.split("\\.").length == near.split("\\.").length) {
                    throw new IllegalArgumentException("unknown key " + key + " in " + CONF + "; did you mean "
                            + "spark." + near + "? (spark-submit passes run settings on as spark.sparkseek.*)");
                }
            }
        }
        return normalizeConfPairs(picked);
    }

    /** {@link #sparkConfPairs(Map)} for {@code SparkConf.getAll()}, which returns {@code Tuple2[]} in Java. */
    public static Map<String, String> sparkConfPairs(scala.Tuple2<String, String>[] sparkConfAll) {
        return sparkConfPairs(Arrays.asList(sparkConfAll));
    }

    /** {@link #sparkConfPairs(Map)} for pairs as Spark returns them. */
    public static Map<String, String> sparkConfPairs(Iterable<scala.Tuple2<String, String>> sparkConfAll) {
        Map<String, String> map = new LinkedHashMap<>();
        for (scala.Tuple2<String, String> t : sparkConfAll) {
            map.put(t._1(), t._2());
        }
        return sparkConfPairs(map);
    }

    /** {@code spark.sparkseek.X} -> {@code sparkseek.X}; a key given both ways must have one value. */
    private static Map<String, String> normalizeConfPairs(Map<String, String> pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : pairs.entrySet()) {
            String key = e.getKey().startsWith(SPARK_PREFIX) ? e.getKey().substring("spark.".length()) : e.getKey();
            String before = out.put(key, e.getValue());
            if (before != null && !before.equals(e.getValue())) {
                throw new IllegalArgumentException(key + " is set twice in " + CONF + ", as " + key + "=" + before
                        + " and as " + SPARK_PREFIX + key.substring(PREFIX.length()) + "=" + e.getValue()
                        + "; keep one");
            }
        }
        return out;
    }

    // ---- the defaults file ----

    /**
     * The {@code conf} directory holding {@value #DEFAULTS_FILE}: {@code $sparkseek.root/conf} when the system
     * property {@value #ROOT_PROPERTY} is set (the launcher passes {@code -Dsparkseek.root=$ROOT}), else the first
     * {@code conf} directory holding the file at or above the working directory.
     *
     * @throws IllegalStateException naming every place it looked
     */
    public static Path confDir() {
        List<Path> looked = new ArrayList<>();
        String root = System.getProperty(ROOT_PROPERTY);
        if (root != null && !root.isBlank() && !root.contains("${")) {
            Path conf = Paths.get(root).toAbsolutePath().resolve("conf");
            if (Files.isRegularFile(conf.resolve(DEFAULTS_FILE))) {
                return conf;
            }
            looked.add(conf.resolve(DEFAULTS_FILE));
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path conf = p.resolve("conf");
            if (Files.isRegularFile(conf.resolve(DEFAULTS_FILE))) {
                return conf;
            }
            looked.add(conf.resolve(DEFAULTS_FILE));
        }
        throw new IllegalStateException("cannot find conf/" + DEFAULTS_FILE + "; looked at " + looked
                + " (-D" + ROOT_PROPERTY + "=" + root + "); run through scripts/sparkseek or set -D" + ROOT_PROPERTY
                + "=<the SparkSeek directory>");
    }

    /** The defaults from {@link #confDir()}. */
    public static Map<String, String> loadDefaults() {
        return loadDefaults(confDir());
    }

    /**
     * The defaults file {@code confDir/}{@value #DEFAULTS_FILE}, checked: every key known, every key defined, once,
     * every value of its type. Returned in the file's order.
     *
     * @throws IllegalArgumentException naming the file and the key, if it is missing, incomplete or ill-typed
     */
    public static Map<String, String> loadDefaults(Path confDir) {
        Path file = confDir.resolve(DEFAULTS_FILE).toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("defaults file " + file + " not found; it must define every "
                    + "sparkseek.* key (copy conf/" + DEFAULTS_FILE + " of the SparkSeek distribution)");
        }
        String layer = "defaults file " + file;
        Map<String, String> values = checkLayer(readProperties(file, "defaults file"), layer);
        List<String> missing = KEYS.stream().filter(k -> !values.containsKey(k)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(layer + " does not define " + String.join(", ", missing)
                    + "; every sparkseek.* key needs a default there");
        }
        return Collections.unmodifiableMap(values);
    }

    // ---- as strings and back ----

    /** Every key with its value as a string, in the order of the defaults file; {@link #fromMap} reads it back. */
    public static Map<String, String> asMap(RunConfig config) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Setting s : SETTINGS) {
            map.put(s.key(), format(s.get().apply(config)));
        }
        return Collections.unmodifiableMap(map);
    }

    /** The config {@link #asMap} wrote (e.g. stored in a checkpoint); it must hold every key and no other. */
    public static RunConfig fromMap(Map<String, String> map) {
        return fromMap(map, "map");
    }

    /**
     * {@link #fromMap(Map)}, naming the source (e.g. {@code "checkpoint hdfs://.../stage-000050"}) in errors.
     *
     * @throws IllegalArgumentException naming the source and key, for an unknown, missing or ill-typed key
     */
    public static RunConfig fromMap(Map<String, String> map, String source) {
        Map<String, String> values = checkLayer(map, source);
        List<String> missing = KEYS.stream().filter(k -> !values.containsKey(k)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(source + " lacks " + String.join(", ", missing));
        }
        Map<String, String> origins = new LinkedHashMap<>();
        KEYS.forEach(k -> origins.put(k, source));
        return build(values, origins);
    }

    /**
     * One line per key, {@code key = value  (origin)}, aligned, in the order of the defaults file; a key missing
     * from {@code origins} shows no origin.
     */
    public static String describe(RunConfig config, Map<String, String> origins) {
        return describe(asMap(config), origins);
    }

    /**
     * {@link #describe(RunConfig, Map)} for any settings: one aligned line per key in the map's order, the value of
     * a secret ({@link Redaction#isSecret}) shown as {@link Redaction#REDACTED}.
     */
    public static String describe(Map<String, String> settings, Map<String, String> origins) {
        Map<String, String> values = Redaction.redact(settings);
        int keyWidth = values.keySet().stream().mapToInt(String::length).max().orElse(0);
        int valueWidth = values.values().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : values.entrySet()) {
            String origin = origins.get(e.getKey());
            String line = pad(e.getKey(), keyWidth) + " = " + (origin == null ? e.getValue()
                    : pad(e.getValue(), valueWidth) + "  (" + origin + ")");
            sb.append(line.stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    // ---- internals ----

    private static Setting of(String key, Kind kind, Function<RunConfig, Object> get) {
        return new Setting(key, kind, List.of(), get);
    }

    private static Setting choice(String key, Function<RunConfig, Object> get, String... choices) {
        return new Setting(key, Kind.CHOICE, List.of(choices), get);
    }

    private static Map<String, Setting> indexByKey() {
        Map<String, Setting> map = new LinkedHashMap<>();
        SETTINGS.forEach(s -> map.put(s.key(), s));
        return Collections.unmodifiableMap(map);
    }

    /**
     * Checks one layer: every key a known {@code sparkseek.*} key and every value of its type. Returns the layer's
     * values, trimmed, in its own order.
     */
    private static Map<String, String> checkLayer(Map<String, String> layer, String layerName) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : layer.entrySet()) {
            String key = e.getKey();
            Setting s = BY_KEY.get(key);
            if (s == null) {
                throw unknownKey(key, layerName);
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException(key + " in " + layerName + " has no value; give one, e.g. "
                        + key + "=" + example(s));
            }
            String value = e.getValue().trim();
            parse(s, value, layerName);
            out.put(key, value);
        }
        return out;
    }

    /** The keys of a properties file that are this job's: sparkseek.* and spark.sparkseek.*; other spark.* ignored. */
    private static Map<String, String> fileSettings(Map<String, String> props, String layerName) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : props.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(SPARK_PREFIX)) {
                key = key.substring("spark.".length());
            } else if (key.startsWith("spark.") && !key.startsWith(PREFIX)) {
                continue;
            }
            String before = out.put(key, e.getValue());
            if (before != null) {
                throw new IllegalArgumentException(key + " is set twice in " + layerName + " (as " + key + " and "
                        + SPARK_PREFIX + key.substring(Math.min(PREFIX.length(), key.length())) + "); keep one");
            }
        }
        return out;
    }

    private static IllegalArgumentException unknownKey(String key, String layerName) {
        String near = closestKey(key);
        String hint = near != null ? "; did you mean " + near + "?"
                : "; the known keys are listed in conf/" + DEFAULTS_FILE;
        String what = key.startsWith(PREFIX) ? "unknown key " : "not a sparkseek.* key: ";
        return new IllegalArgumentException(what + key + " in " + layerName + hint);
    }

    /** The known key closest to {@code key} (by whole key, or by last segment), or null when none is close. */
    static String closestKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        String leaf = k.substring(k.lastIndexOf('.') + 1);
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        int bestWhole = Integer.MAX_VALUE;
        for (String known : KEYS) {
            String kn = known.toLowerCase(Locale.ROOT);
            int whole = distance(k, kn);
            String knownLeaf = kn.substring(kn.lastIndexOf('.') + 1);
            int leafDist = leaf.length() >= 3 ? distance(leaf, knownLeaf) : whole;
            if (leaf.length() >= 4 && (knownLeaf.startsWith(leaf) || leaf.startsWith(knownLeaf))) {
                leafDist = Math.min(leafDist, 1);   // warmup -> warmupSteps, threadsPerTask -> threads
            }
            boolean close = whole <= Math.max(3, kn.length() / 6) || leafDist <= Math.min(2, leaf.length() / 3);
            int score = Math.min(whole, leafDist);
            if (close && (score < bestScore || score == bestScore && whole < bestWhole)) {
                best = known;
                bestScore = score;
                bestWhole = whole;
            }
        }
        return best;
    }

    /** Levenshtein edit distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The typed value of {@code value} (already trimmed) for setting {@code s}; choices come back lower-case. */
    private static Object parse(Setting s, String value, String layerName) {
        try {
            return switch (s.kind()) {
                case INT -> Integer.parseInt(value);
                case LONG -> Long.parseLong(value);
                case DOUBLE -> decimal(value);
                case FLOAT -> {
                    float f = (float) decimal(value);
                    if (Float.isInfinite(f)) {
                        throw new NumberFormatException(value);
                    }
                    yield f;
                }
                case BOOLEAN -> {
                    if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                        throw new NumberFormatException(value);
                    }
                    yield Boolean.parseBoolean(value);
                }
                case CHOICE -> {
                    String v = value.toLowerCase(Locale.ROOT);
                    if (!s.choices().contains(v)) {
                        throw new NumberFormatException(value);
                    }
                    yield v;
                }
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad value for " + s.key() + " in " + layerName + ": '" + value
                    + "' is not " + expected(s) + "; fix it, e.g. " + s.key() + "=" + example(s));
        }
    }

    private static double decimal(String value) {
        if (!DECIMAL.matcher(value).matches()) {
            throw new NumberFormatException(value);
        }
        double d = Double.parseDouble(value);
        if (!Double.isFinite(d)) {
            throw new NumberFormatException(value);
        }
        return d;
    }

    private static String expected(Setting s) {
        return s.kind() == Kind.CHOICE ? "one of " + String.join(", ", s.choices()) + " (case-insensitive)"
                : s.kind().expected;
    }

    private static String example(Setting s) {
        return switch (s.kind()) {
            case INT -> "2";
            case LONG -> "200";
            case DOUBLE -> "0.7";
            case FLOAT -> "1e-3";
            case BOOLEAN -> "false";
            case CHOICE -> s.choices().get(0);
        };
    }

    /** The RunConfig of checked string values; RunConfig's own errors get the origins of the keys they name. */
    private static RunConfig build(Map<String, String> values, Map<String, String> origins) {
        Map<String, Object> v = new LinkedHashMap<>();
        for (Setting s : SETTINGS) {
            v.put(s.key(), parse(s, values.get(s.key()), origins.get(s.key())));
        }
        try {
            return new RunConfig(
                    RunConfig.Mode.valueOf(upper(v.get("sparkseek.train.mode"))),
                    (Integer) v.get("sparkseek.train.replicas"),
                    (Integer) v.get("sparkseek.train.localSteps"),
                    (Long) v.get("sparkseek.train.stages"),
                    (Integer) v.get("sparkseek.train.batchSize"),
                    (Long) v.get("sparkseek.train.seed"),
                    (String) v.get("sparkseek.train.precision"),
                    (Double) v.get("sparkseek.train.lr"),
                    (Double) v.get("sparkseek.train.minLr"),
                    (Long) v.get("sparkseek.train.warmupSteps"),
                    (Double) v.get("sparkseek.train.gradClip"),
                    RunConfig.InnerState.valueOf(upper(v.get("sparkseek.train.innerState"))),
                    (Double) v.get("sparkseek.train.outerLr"),
                    (Double) v.get("sparkseek.train.outerMomentum"),
                    (Float) v.get("sparkseek.balance.gamma"),
                    (Boolean) v.get("sparkseek.balance.recenter"),
                    (Float) v.get("sparkseek.balance.alpha"),
                    (Long) v.get("sparkseek.eval.every"),
                    (Integer) v.get("sparkseek.eval.batches"),
                    (Long) v.get("sparkseek.checkpoint.every"),
                    (Integer) v.get("sparkseek.checkpoint.keep"),
                    (String) v.get("sparkseek.compute.backend"),
                    (Integer) v.get("sparkseek.compute.threads"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " [" + involved(e.getMessage(), values, origins)
                    + "]", e);
        }
    }

    /** {@code key=value from layer} for each key a RunConfig error message names, longest keys matched first. */
    private static String involved(String message, Map<String, String> values, Map<String, String> origins) {
        List<String> named = new ArrayList<>();
        String rest = message;
        List<String> byLength = new ArrayList<>(KEYS);
        byLength.sort((a, b) -> b.length() - a.length());
        for (String key : byLength) {
            if (rest.contains(key)) {
                named.add(key);
                rest = rest.replace(key, "");
            }
        }
        List<String> parts = new ArrayList<>();
        for (String key : KEYS) {
            if (named.contains(key)) {
                parts.add(key + "=" + values.get(key) + " from " + origins.get(key));
            }
        }
        return String.join(", ", parts);
    }

    private static String upper(Object choice) {
        return ((String) choice).toUpperCase(Locale.ROOT);
    }

    private static String format(Object value) {
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        return String.valueOf(value);
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }

    /** A properties file in its own key order; a key defined twice is an error. */
    private static Map<String, String> readProperties(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + " " + file + " not found");
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        Properties props = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                if (ordered.put((String) key, (String) value) != null) {
                    throw new IllegalArgumentException(key + " is defined twice in " + what + " " + file
                            + "; keep one");
                }
                return super.put(key, value);
            }
        };
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        return ordered;
    }
}
