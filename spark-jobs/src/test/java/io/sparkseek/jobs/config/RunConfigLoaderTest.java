package io.sparkseek.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import scala.Tuple2;

/**
 * {@link RunConfigLoader}: the four layers in precedence order, the {@code spark.sparkseek.*} mapping, the errors
 * for unknown keys and ill-typed values, the committed defaults file, asMap/fromMap, and {@link RunConfig}'s checks.
 */
class RunConfigLoaderTest {

    private static final Map<String, String> NONE = Map.of();

    @TempDir
    Path dir;

    /** The committed conf/sparkseek-defaults.conf. */
    private static Map<String, String> defaults() {
        return RunConfigLoader.loadDefaults();
    }

    private static RunConfig fromDefaults(Map<String, String> cli) {
        return RunConfigLoader.resolve(cli, NONE, Optional.empty(), defaults());
    }

    private Path file(String name, String... lines) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, List.of(lines), StandardCharsets.UTF_8);
        return f;
    }

    // ---- the defaults file ----

    @Test
    void defaultsFileDefinesEveryKeyOnceInOrderAndNoOther() throws IOException {
        Path file = RunConfigLoader.confDir().resolve(RunConfigLoader.DEFAULTS_FILE);
        List<String> keys = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            keys.add(line.substring(0, line.indexOf('=')).trim());
            // every key has a comment line right above it
            assertThat(lines.get(i - 1)).as("comment above " + line).startsWith("# ");
        }
        assertThat(keys).containsExactlyElementsOf(RunConfigLoader.KEYS);
        assertThat(defaults().keySet()).containsExactlyElementsOf(RunConfigLoader.KEYS);
    }

    @Test
    void defaultsFileLoadsIntoTheDemoConfig() {
        RunConfig c = fromDefaults(NONE);
        assertThat(c).isEqualTo(new RunConfig(RunConfig.Mode.SYNC, 2, 1, 200, 8, 0, "fp32", 3e-3, 3e-4, 20, 1.0,
                RunConfig.InnerState.CARRY, 0.7, 0.9, 1e-3f, false, 1e-4f, 10, 8, 50, 3, "auto", 0));
        assertThat(c.stepsPerStage()).isEqualTo(1);
        assertThat(c.replicaBatch()).isEqualTo(4);
    }

    @Test
    void keysAreTheOnesRunConfigDocuments() throws IOException {
        // RunConfig's javadoc names each component's key: the loader knows exactly those, in component order.
        Path src = RunConfigLoader.confDir().getParent()
                .resolve("spark-jobs/src/main/java/io/sparkseek/jobs/config/RunConfig.java");
        Matcher m = Pattern.compile("@param\\s+\\w+\\s+\\{@code (sparkseek\\.[\\w.]+)}").matcher(Files.readString(src));
        List<String> documented = new ArrayList<>();
        while (m.find()) {
            documented.add(m.group(1));
        }
        assertThat(documented).containsExactlyElementsOf(RunConfigLoader.KEYS);
        assertThat(RunConfig.class.getRecordComponents()).hasSize(RunConfigLoader.KEYS.size());
    }

    @Test
    void defaultsDirWithoutTheFileIsAnErrorNamingIt() {
        assertThatThrownBy(() -> RunConfigLoader.loadDefaults(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("sparkseek-defaults.conf").toString())
                .hasMessageContaining("not found");
    }

    @Test
    void incompleteDefaultsFileIsAnErrorNamingTheMissingKeys() throws IOException {
        List<String> lines = new ArrayList<>();
        defaults().forEach((k, v) -> {
            if (!k.equals("sparkseek.train.seed") && !k.equals("sparkseek.compute.threads")) {
                lines.add(k + "=" + v);
            }
        });
        file("sparkseek-defaults.conf", lines.toArray(String[]::new));
        assertThatThrownBy(() -> RunConfigLoader.loadDefaults(dir))
                .hasMessageContaining("does not define sparkseek.train.seed, sparkseek.compute.threads")
                .hasMessageContaining(dir.toString());
    }

    @Test
    void unknownOrDuplicateKeyInDefaultsFileIsAnError() throws IOException {
        List<String> lines = new ArrayList<>();
        defaults().forEach((k, v) -> lines.add(k + "=" + v));
        lines.add("sparkseek.train.warmup=10");
        file("sparkseek-defaults.conf", lines.toArray(String[]::new));
        assertThatThrownBy(() -> RunConfigLoader.loadDefaults(dir))
                .hasMessageContaining("unknown key sparkseek.train.warmup in defaults file " + dir)
                .hasMessageContaining("did you mean sparkseek.train.warmupSteps?");

        lines.set(lines.size() - 1, "sparkseek.train.seed=7");
        file("sparkseek-defaults.conf", lines.toArray(String[]::new));
        assertThatThrownBy(() -> RunConfigLoader.loadDefaults(dir))
                .hasMessageContaining("sparkseek.train.seed is defined twice in defaults file");
    }

    @Test
    void missingKeyInEveryLayerIsAnError() {
        Map<String, String> partial = new LinkedHashMap<>(defaults());
        partial.remove("sparkseek.eval.batches");
        assertThatThrownBy(() -> RunConfigLoader.resolve(NONE, NONE, Optional.empty(), partial))
                .hasMessageContaining("no value for sparkseek.eval.batches in any layer")
                .hasMessageContaining("conf/sparkseek-defaults.conf must define every sparkseek.* key");
        // ...unless a higher layer sets it
        RunConfig c = RunConfigLoader.resolve(Map.of("sparkseek.eval.batches", "5"), NONE, Optional.empty(), partial);
        assertThat(c.evalBatches()).isEqualTo(5);
    }

    @Test
    void confDirFollowsTheRootPropertyAndNamesWhereItLooked() {
        String before = System.getProperty(RunConfigLoader.ROOT_PROPERTY);
        try {
            Path expected = RunConfigLoader.confDir();
            System.setProperty(RunConfigLoader.ROOT_PROPERTY, expected.getParent().toString());
            assertThat(RunConfigLoader.confDir()).isEqualTo(expected);
            // a root without the file: the walk up from the working directory still finds the repository's
            System.setProperty(RunConfigLoader.ROOT_PROPERTY, dir.toString());
            assertThat(RunConfigLoader.confDir()).isEqualTo(expected);
        } finally {
            if (before == null) {
                System.clearProperty(RunConfigLoader.ROOT_PROPERTY);
            } else {
                System.setProperty(RunConfigLoader.ROOT_PROPERTY, before);
            }
        }
    }

    // ---- precedence ----

    @Test
    void aKeySetInEveryLayerTakesTheHighestLayersValue() throws IOException {
        Path props = file("run.properties",
                "sparkseek.train.stages=30",
                "sparkseek.train.seed=3",
                "sparkseek.train.lr=1e-3");
        Map<String, String> conf = Map.of(
                "sparkseek.train.stages", "20",
                "spark.sparkseek.train.seed", "2");
        Map<String, String> cli = Map.of("sparkseek.train.stages", "10");

        RunConfigLoader.Resolution r = RunConfigLoader.resolveWithOrigins(cli, conf, Optional.of(props), defaults());
        RunConfig c = r.config();
        assertThat(c.stages()).isEqualTo(10);             // CLI > --conf > file > defaults
        assertThat(c.seed()).isEqualTo(2);                // --conf > file > defaults
        assertThat(c.lr()).isEqualTo(1e-3);               // file > defaults
        assertThat(c.minLr()).isEqualTo(3e-4);            // defaults
        assertThat(r.origins()).containsEntry("sparkseek.train.stages", "CLI flag")
                .containsEntry("sparkseek.train.seed", "--conf")
                .containsEntry("sparkseek.train.lr", "properties file " + props.toAbsolutePath())
                .containsEntry("sparkseek.train.minLr", "defaults");
        assertThat(r.origins().keySet()).containsExactlyElementsOf(RunConfigLoader.KEYS);

        // each layer alone over the defaults
        assertThat(RunConfigLoader.resolve(NONE, NONE, Optional.of(props), defaults()).stages()).isEqualTo(30);
        assertThat(RunConfigLoader.resolve(NONE, conf, Optional.of(props), defaults()).stages()).isEqualTo(20);
        assertThat(RunConfigLoader.resolve(NONE, conf, Optional.empty(), defaults()).lr()).isEqualTo(3e-3);
    }

    @Test
    void describeSaysWhereEachValueCameFrom() {
        RunConfigLoader.Resolution r = RunConfigLoader.resolveWithOrigins(Map.of("sparkseek.train.stages", "10"),
                Map.of("spark.sparkseek.balance.recenter", "TRUE"), Optional.empty(), defaults());
        String text = r.describe();
        assertThat(text.lines()).hasSize(RunConfigLoader.KEYS.size());
        assertThat(text.lines().toList().get(0)).matches("sparkseek\\.train\\.mode +\\= sync +\\(defaults\\)");
        assertThat(text).containsPattern("sparkseek\\.train\\.stages +\\= 10 +\\(CLI flag\\)")
                .containsPattern("sparkseek\\.balance\\.recenter +\\= true +\\(--conf\\)");
        assertThat(text.lines()).allMatch(l -> l.length() <= 120);
    }

    // ---- Spark conf ----

    @Test
    void sparkConfPairsPicksRunSettingsOutOfSparkConf() {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("spark.master", "local[2]");
        all.put("spark.app.name", "sparkseek");
        all.put("spark.sparkseek.train.replicas", "4");
        all.put("sparkseek.train.batchSize", "16");
        all.put("spark.executor.resource.gpu.amount", "1");
        Map<String, String> picked = RunConfigLoader.sparkConfPairs(all);
        assertThat(picked).containsExactly(Map.entry("sparkseek.train.replicas", "4"),
                Map.entry("sparkseek.train.batchSize", "16"));

        @SuppressWarnings("unchecked")
        Tuple2<String, String>[] getAll = new Tuple2[] {
            new Tuple2<>("spark.master", "local[2]"), new Tuple2<>("spark.sparkseek.train.mode", "LOCAL"),
            new Tuple2<>("spark.sparkseek.train.localSteps", "16")};
        Map<String, String> fromScala = RunConfigLoader.sparkConfPairs(getAll);
        assertThat(fromScala).containsOnlyKeys("sparkseek.train.mode", "sparkseek.train.localSteps");

        RunConfig c = RunConfigLoader.resolve(NONE, fromScala, Optional.empty(), defaults());
        assertThat(c.mode()).isEqualTo(RunConfig.Mode.LOCAL);
        assertThat(c.localSteps()).isEqualTo(16);
    }

    @Test
    void resolveAcceptsBothSpellingsInConfPairs() {
        RunConfig c = RunConfigLoader.resolve(NONE,
                Map.of("spark.sparkseek.train.replicas", "4", "sparkseek.train.batchSize", "16"), Optional.empty(),
                defaults());
        assertThat(c.replicas()).isEqualTo(4);
        assertThat(c.batchSize()).isEqualTo(16);
    }

    @Test
    void aKeyInBothSpellingsWithDifferentValuesIsAnError() {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("sparkseek.train.seed", "1");
        conf.put("spark.sparkseek.train.seed", "2");
        assertThatThrownBy(() -> RunConfigLoader.sparkConfPairs(conf))
                .hasMessageContaining("sparkseek.train.seed is set twice in --conf")
                .hasMessageContaining("sparkseek.train.seed=1")
                .hasMessageContaining("spark.sparkseek.train.seed=2");
        conf.put("spark.sparkseek.train.seed", "1");
        assertThat(RunConfigLoader.sparkConfPairs(conf)).containsExactly(Map.entry("sparkseek.train.seed", "1"));
    }

    @Test
    void aMisspeltSparkSeekKeyAmongSparkKeysIsAnError() {
        assertThatThrownBy(() -> RunConfigLoader.sparkConfPairs(Map.of("spark.sparkseak.train.lr", "1e-3")))
                .hasMessageContaining("unknown key spark.sparkseak.train.lr in --conf")
                .hasMessageContaining("did you mean spark.sparkseek.train.lr?");
    }

    @Test
    void sparksOwnKeysInAPropertiesFileAreIgnored() throws IOException {
        Path props = file("spark.properties",
                "spark.master=local[2]",
                "spark.sparkseek.train.seed=9",
                "sparkseek.eval.every=0");
        RunConfig c = RunConfigLoader.resolve(NONE, NONE, Optional.of(props), defaults());
        assertThat(c.seed()).isEqualTo(9);
        assertThat(c.evalEvery()).isZero();
    }

    // ---- errors ----

    @ParameterizedTest(name = "{0} in {1}")
    @CsvSource({
        "sparkseek.train.replica,    cli,      sparkseek.train.replicas",
        "sparkseek.train.batch_size, conf,     sparkseek.train.batchSize",
        "sparkseek.train.gamma,      file,     sparkseek.balance.gamma",
        "sparkseek.eval.evry,        defaults, sparkseek.eval.every",
        "sparkseek.Train.LR,         cli,      sparkseek.train.lr",
        "sparkseek.checkpoint.kept,  conf,     sparkseek.checkpoint.keep",
    })
    void unknownKeyNamesTheKeyTheLayerAndTheClosestKey(String key, String layer, String closest) throws IOException {
        Throwable t = catchResolve(layer, key, "1");
        assertThat(t).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown key " + key + " in " + layerName(layer))
                .hasMessageEndingWith("did you mean " + closest + "?");
    }

    @Test
    void unknownKeyWithNothingCloseNamesTheKeyList() {
        assertThatThrownBy(() -> fromDefaults(Map.of("sparkseek.telemetry.endpoint", "x")))
                .hasMessage("unknown key sparkseek.telemetry.endpoint in CLI flag; the known keys are listed in "
                        + "conf/sparkseek-defaults.conf");
    }

    @Test
    void aNonSparkSeekKeyInAPropertiesFileIsAnError() throws IOException {
        Path props = file("bad.properties", "sparkseak.train.lr=1e-3");
        assertThatThrownBy(() -> RunConfigLoader.resolve(NONE, NONE, Optional.of(props), defaults()))
                .hasMessageContaining("not a sparkseek.* key: sparkseak.train.lr in properties file " + props)
                .hasMessageContaining("did you mean sparkseek.train.lr?");
    }

    @Test
    void aMissingPropertiesFileIsAnErrorNamingIt() {
        Path missing = dir.resolve("nope.properties");
        assertThatThrownBy(() -> RunConfigLoader.resolve(NONE, NONE, Optional.of(missing), defaults()))
                .hasMessage("properties file " + missing + " not found");
    }

    @ParameterizedTest(name = "{0}={1} in {2}")
    @CsvSource(delimiter = '|', value = {
        "sparkseek.train.replicas     | two         | cli      | an integer",
        "sparkseek.train.replicas     | 2.0         | conf     | an integer",
        "sparkseek.train.stages       | 1e3         | file     | an integer",
        "sparkseek.train.seed         | 99999999999999999999 | cli | an integer",
        "sparkseek.eval.batches       | 3000000000  | conf     | an integer",
        "sparkseek.balance.recenter   | maybe       | cli      | true or false",
        "sparkseek.balance.recenter   | 1           | file     | true or false",
        "sparkseek.train.lr           | fast        | conf     | a decimal number",
        "sparkseek.train.lr           | NaN         | cli      | a decimal number",
        "sparkseek.train.lr           | Infinity    | cli      | a decimal number",
        "sparkseek.train.lr           | 1e-3d       | file     | a decimal number",
        "sparkseek.train.outerLr      | 1e400       | conf     | a decimal number",
        "sparkseek.balance.gamma      | 1e39        | cli      | a decimal number",
        "sparkseek.train.mode         | async       | conf     | one of sync, local (case-insensitive)",
        "sparkseek.train.precision    | fp16        | cli      | one of fp32, fp8 (case-insensitive)",
        "sparkseek.train.innerState   | keep        | file     | one of reset, carry (case-insensitive)",
        "sparkseek.compute.backend    | cuda        | defaults | one of auto, opencl, java (case-insensitive)",
    })
    void illTypedValueNamesTheKeyTheValueAndTheExpectedType(String key, String value, String layer, String expected)
            throws IOException {
        Throwable t = catchResolve(layer, key, value);
        assertThat(t).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("bad value for " + key + " in " + layerName(layer))
                .hasMessageContaining(": '" + value + "' is not " + expected)
                .hasMessageContaining("; fix it, e.g. " + key + "=");
    }

    @Test
    void emptyValueIsIllTyped() {
        assertThatThrownBy(() -> fromDefaults(Map.of("sparkseek.train.batchSize", "")))
                .hasMessageStartingWith("bad value for sparkseek.train.batchSize in CLI flag: '' is not an integer");
    }

    @Test
    void choicesAreCaseInsensitiveAndValuesTrimmed() {
        RunConfig c = fromDefaults(Map.of(
                "sparkseek.train.mode", " Local ",
                "sparkseek.train.localSteps", "4",
                "sparkseek.train.precision", "FP8",
                "sparkseek.train.innerState", "CARRY",
                "sparkseek.compute.backend", "Java",
                "sparkseek.balance.recenter", "TRUE",
                "sparkseek.train.gradClip", "0"));
        assertThat(c.mode()).isEqualTo(RunConfig.Mode.LOCAL);
        assertThat(c.precision()).isEqualTo("fp8");
        assertThat(c.innerState()).isEqualTo(RunConfig.InnerState.CARRY);
        assertThat(c.computeBackend()).isEqualTo("java");
        assertThat(c.balanceRecenter()).isTrue();
        assertThat(c.gradClip()).isZero();
    }

    // ---- RunConfig's own checks, with the origins of the values involved ----

    @Test
    void batchSizeMustBeAMultipleOfReplicas() {
        assertThatThrownBy(() -> RunConfigLoader.resolve(Map.of("sparkseek.train.batchSize", "7"),
                Map.of("spark.sparkseek.train.replicas", "2"), Optional.empty(), defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("sparkseek.train.batchSize 7 must be a positive multiple of "
                        + "sparkseek.train.replicas 2")
                .hasMessageEndingWith("[sparkseek.train.replicas=2 from --conf, "
                        + "sparkseek.train.batchSize=7 from CLI flag]");
    }

    @Test
    void syncModeRequiresOneLocalStep() {
        assertThatThrownBy(() -> fromDefaults(Map.of("sparkseek.train.localSteps", "2")))
                .hasMessageStartingWith("sparkseek.train.localSteps must be 1 in sync mode, got 2 "
                        + "(use sparkseek.train.mode=local for H > 1)")
                .hasMessageEndingWith("[sparkseek.train.mode=sync from defaults, "
                        + "sparkseek.train.localSteps=2 from CLI flag]");
        assertThat(fromDefaults(Map.of("sparkseek.train.localSteps", "2", "sparkseek.train.mode", "local"))
                .stepsPerStage()).isEqualTo(2);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "sparkseek.train.replicas      | 0    | sparkseek.train.replicas must be >= 1, got 0",
        "sparkseek.train.stages        | 0    | sparkseek.train.stages must be >= 1, got 0",
        "sparkseek.train.minLr         | 1.0  | sparkseek.train.minLr in [0, lr]",
        "sparkseek.train.lr            | 0    | sparkseek.train.lr must be > 0",
        "sparkseek.train.outerMomentum | 1.0  | sparkseek.train.outerMomentum in [0, 1)",
        "sparkseek.balance.gamma       | -1   | sparkseek.balance.gamma and sparkseek.balance.alpha must be >= 0",
        "sparkseek.checkpoint.keep     | 0    | sparkseek.checkpoint.keep >= 1",
        "sparkseek.compute.threads     | -1   | sparkseek.compute.threads must be >= 0",
    })
    void runConfigRangeChecksNameTheKeyAndWhereTheValueCameFrom(String key, String value, String message) {
        assertThatThrownBy(() -> fromDefaults(Map.of(key, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .hasMessageContaining(key + "=" + value + " from CLI flag");
    }

    // ---- asMap / fromMap ----

    @Test
    void asMapFollowsTheDefaultsFileAndRoundTrips() {
        RunConfig defaultsConfig = fromDefaults(NONE);
        Map<String, String> map = RunConfigLoader.asMap(defaultsConfig);
        assertThat(map.keySet()).containsExactlyElementsOf(defaults().keySet());
        assertThat(RunConfigLoader.fromMap(map)).isEqualTo(defaultsConfig);

        RunConfig odd = new RunConfig(RunConfig.Mode.LOCAL, 3, 16, 1234567890123L, 9, -42L, "fp8", 1.0 / 3,
                1e-7, 0, 0.0, RunConfig.InnerState.CARRY, 0.123456789, 0.0, 1.0f / 3, true, 0f, 0, 0, 0, 1, "opencl",
                7);
        Map<String, String> oddMap = RunConfigLoader.asMap(odd);
        assertThat(oddMap).containsEntry("sparkseek.train.mode", "local")
                .containsEntry("sparkseek.train.innerState", "carry")
                .containsEntry("sparkseek.balance.recenter", "true")
                .containsEntry("sparkseek.train.seed", "-42");
        RunConfig back = RunConfigLoader.fromMap(oddMap);
        assertThat(back).isEqualTo(odd);
        assertThat(RunConfigLoader.asMap(back)).isEqualTo(oddMap);
        // a printed map is a valid CLI/--conf layer too
        assertThat(RunConfigLoader.resolve(oddMap, NONE, Optional.empty(), defaults())).isEqualTo(odd);
    }

    @Test
    void fromMapRejectsMissingAndUnknownKeysNamingTheSource() {
        Map<String, String> map = new LinkedHashMap<>(RunConfigLoader.asMap(fromDefaults(NONE)));
        map.remove("sparkseek.balance.alpha");
        assertThatThrownBy(() -> RunConfigLoader.fromMap(map, "checkpoint /runs/x/stage-000050"))
                .hasMessage("checkpoint /runs/x/stage-000050 lacks sparkseek.balance.alpha");
        map.put("sparkseek.balance.alpha", "0");
        map.put("sparkseek.balance.beta", "0");
        assertThatThrownBy(() -> RunConfigLoader.fromMap(map, "checkpoint /runs/x/stage-000050"))
                .hasMessageContaining("unknown key sparkseek.balance.beta in checkpoint /runs/x/stage-000050");
    }

    // ---- helpers ----

    private static String layerName(String layer) {
        return switch (layer) {
            case "cli" -> "CLI flag";
            case "conf" -> "--conf";
            case "defaults" -> "defaults";
            default -> "properties file ";
        };
    }

    /** Resolves with {@code key=value} put into one layer (the others empty, over the committed defaults). */
    private Throwable catchResolve(String layer, String key, String value) throws IOException {
        Map<String, String> one = Map.of(key, value);
        Map<String, String> defs = defaults();
        try {
            switch (layer) {
                case "cli" -> RunConfigLoader.resolve(one, NONE, Optional.empty(), defs);
                case "conf" -> RunConfigLoader.resolve(NONE, one, Optional.empty(), defs);
                case "file" -> RunConfigLoader.resolve(NONE, NONE, Optional.of(file("layer.properties",
                        key + "=" + value)), defs);
                case "defaults" -> {
                    Map<String, String> changed = new LinkedHashMap<>(defs);
                    changed.put(key, value);
                    RunConfigLoader.resolve(NONE, NONE, Optional.empty(), changed);
                }
                default -> throw new AssertionError(layer);
            }
        } catch (IllegalArgumentException e) {
            return e;
        }
        throw new AssertionError("no error for " + key + "=" + value + " in " + layer);
    }
}
