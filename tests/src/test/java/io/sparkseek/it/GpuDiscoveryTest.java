package io.sparkseek.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** scripts/gpu-discovery prints what Spark's resource discovery expects, with and without NVIDIA GPUs. */
class GpuDiscoveryTest {

    @TempDir
    Path tmp;

    private static JsonNode discover(String path) throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("scripts/gpu-discovery"))) {
            root = root.getParent();
        }
        ProcessBuilder pb = new ProcessBuilder(root.resolve("scripts/gpu-discovery").toString());
        pb.environment().put("PATH", path);
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return new ObjectMapper().readTree(out);
    }

    @Test
    void listsNvidiaGpusOrNone() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        JsonNode none = discover(bin + ":/usr/bin:/bin");
        assertThat(none.get("name").asText()).isEqualTo("gpu");
        assertThat(none.get("addresses").size()).isZero();

        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\nprintf '0\\n1\\n'\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        JsonNode two = discover(bin + ":/usr/bin:/bin");
        assertThat(two.get("addresses").toString()).isEqualTo("[\"0\",\"1\"]");
    }
}
