package io.sparkseek.jobs.cli;

import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.io.TrainerCheckpoint;
import io.sparkseek.model.layer.DeepSeekModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads {@code --checkpoint}: a trainer checkpoint (or run dir, via latest) or an HF-layout directory. */
final class ModelLoader {
    private ModelLoader() {
    }

    static DeepSeekModel load(Path path, float balanceAlpha) throws IOException {
        if (!Files.isDirectory(path)) {
            throw new IOException("--checkpoint " + path + " is not a directory");
        }
        if (HfModelDir.isModelDir(path) && !Files.exists(path.resolve(TrainerCheckpoint.STATE))) {
            return HfModelDir.load(path, balanceAlpha);
        }
        return HfModelDir.load(TrainerCheckpoint.resolve(path), balanceAlpha);
    }
}
