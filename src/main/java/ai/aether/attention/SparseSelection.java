package ai.aether.attention;

/**
 * Result of {@link AetherKernels#runAetherSparse}.
 *
 * @param mask                  {@code [batch][lists][blocks]} kept blocks (lists = KV heads, or query heads with PER_QUERY_HEAD)
 * @param scores                {@code [batch][queryHeads][blocks]} radar scores in logit units (+inf where a block had no metadata)
 * @param certifiedDroppedMass  {@code [batch][lists]} certified bound on dropped softmax mass (NaN unless CERTIFIED)
 */
public record SparseSelection(BlockMask mask, Tensor scores, double[] certifiedDroppedMass) {}
