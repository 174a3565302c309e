package io.sparkseek.jobs.cli;

import io.sparkseek.model.config.PrecisionPolicy;
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

    static DeepSeekModel load(Path path, float balanceAlpha, PrecisionPolicy policy) throws IOException {
        if (!Files.isDirectory(path)) {
            throw new IOException("--checkpoint " + path + " is not a directory");
        }
        boolean trainer = Files.exists(path.resolve(TrainerCheckpoint.STATE))
                || Files.exists(path.resolve(TrainerCheckpoint.LATEST))
                || Files.isDirectory(TrainerCheckpoint.checkpointsDir(path));
        if (trainer) {
            return HfModelDir.load(TrainerCheckpoint.resolve(path), balanceAlpha, policy);
        }
        if (Files.exists(path.resolve(HfModelDir.CONFIG))) {
            return HfModelDir.load(path, balanceAlpha, policy);   // its errors name a missing or damaged weights file
        }
        throw new IOException("--checkpoint " + path + " holds neither an HF-layout model (" + HfModelDir.CONFIG
                + " + " + HfModelDir.SINGLE + ") nor a trainer checkpoint or run directory (" + TrainerCheckpoint.STATE
                + " + " + TrainerCheckpoint.COMMITTED + ", or checkpoints/" + TrainerCheckpoint.LATEST
                + "): is the path right?");
    }
}
