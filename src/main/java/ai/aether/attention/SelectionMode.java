package ai.aether.attention;

/** How the blocks outside the always-kept sinks and local window are chosen (SPEC 1.4). */
public enum SelectionMode {
    /** Keep blocks whose potential passes {@link AetherConfig#threshold()}, read per {@link ThresholdMode}. */
    THRESHOLD,
    /** Keep the {@link AetherConfig#topK()} best-scoring blocks. */
    TOP_K,
    /** Keep the best {@code ceil((1 - targetSparsity) * blocks)} blocks in total, forced ones included. */
    TARGET_SPARSITY,
    /** Drop blocks only while their certified softmax-mass bound stays within {@link AetherConfig#epsilon()}. */
    CERTIFIED
}
