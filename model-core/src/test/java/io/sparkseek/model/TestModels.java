package io.sparkseek.model;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.layer.DeepSeekModel;

import java.util.Random;

/** Small configurations and models shared by tests. */
public final class TestModels {
    private TestModels() {
    }

    /** A micro config: 3 layers (1 dense, 2 MoE), 8 experts in 4 groups, top-2 from 2 groups. */
    public static ModelConfig micro(Integer qLoraRank) {
        return ModelConfig.builder()
                .vocabSize(64).hiddenSize(32).intermediateSize(48).moeIntermediateSize(16)
                .numHiddenLayers(3).firstKDenseReplace(1)
                .numAttentionHeads(2).numKeyValueHeads(2)
                .qLoraRank(qLoraRank).kvLoraRank(16).qkNopeHeadDim(8).qkRopeHeadDim(4).vHeadDim(8)
                .nRoutedExperts(8).nSharedExperts(1).numExpertsPerTok(2).nGroup(4).topkGroup(2)
                .routedScalingFactor(2.0).maxPositionEmbeddings(128)
                .build();
    }

    /** A randomly initialised model with small random (non-zero) routing biases. */
    public static DeepSeekModel randomModel(ModelConfig cfg, float alpha, long seed) {
        DeepSeekModel m = new DeepSeekModel(cfg, alpha);
        m.initialize(seed);
        Random rnd = new Random(seed + 1);
        for (float[] b : m.routerBiases().values()) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (rnd.nextGaussian() * 0.01);
            }
        }
        return m;
    }

    /** {@code batch} rows of {@code seqLen + 1} random token ids. */
    public static int[] randomRows(int vocab, int batch, int seqLen, long seed) {
        Random rnd = new Random(seed);
        int[] rows = new int[batch * (seqLen + 1)];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = rnd.nextInt(vocab);
        }
        return rows;
    }
}
