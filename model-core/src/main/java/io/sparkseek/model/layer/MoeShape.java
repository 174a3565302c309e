package io.sparkseek.model.layer;

/**
 * Shape and routing settings of one DeepSeekMoE layer (spec §1.1, §4): HF config keys
 * hidden_size, moe_intermediate_size, n_shared_experts, n_routed_experts, num_experts_per_tok, n_group,
 * topk_group, norm_topk_prob, routed_scaling_factor. Validated here; routing constraints again in {@link Router}.
 */
public record MoeShape(int hidden, int moeInter, int nShared, int nExperts, int topK, int nGroup, int topkGroup,
                       boolean normTopkProb, float routedScalingFactor) {
    public MoeShape {
        if (hidden < 1 || moeInter < 1 || nShared < 0 || nExperts < 1) {
            throw new IllegalArgumentException("MoE shape needs hidden_size >= 1, moe_intermediate_size >= 1, "
                    + "n_shared_experts >= 0, n_routed_experts >= 1; got " + hidden + ", " + moeInter + ", "
                    + nShared + ", " + nExperts);
        }
        if (nGroup < 1 || nExperts % nGroup != 0 || topkGroup < 1 || topkGroup > nGroup
                || topK < 1 || topK > topkGroup * (nExperts / nGroup)) {
            throw new IllegalArgumentException("MoE routing needs n_group | n_routed_experts, 1 <= topk_group <= n_group"
                    + " and 1 <= num_experts_per_tok <= topk_group * n_routed_experts / n_group; got n_routed_experts = "
                    + nExperts + ", n_group = " + nGroup + ", topk_group = " + topkGroup
                    + ", num_experts_per_tok = " + topK);
        }
        if (!(routedScalingFactor > 0f) || Float.isInfinite(routedScalingFactor)) {
            throw new IllegalArgumentException("routed_scaling_factor must be finite and > 0, got " + routedScalingFactor);
        }
    }
}
