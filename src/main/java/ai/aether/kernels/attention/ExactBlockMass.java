package ai.aether.kernels.attention;

/**
 * The exact log attention mass of whole KV blocks for a group of query rows, from the stored keys:
 * {@code log sum_t exp(q . k_t / sqrt(D))}. What a selection that reranks the radar's candidates
 * reads (keys only, vectorised like the attention itself).
 */
public final class ExactBlockMass {

    private ExactBlockMass() {}

    /**
     * For every block {@code i < count} with {@code which[i]}: {@code out[r * count + i]} = the log mass
     * of block {@code blockIds[i]} (all {@code pool.blockSize()} tokens: only full blocks) for query row
     * {@code r} of {@code queries} (rows {@code rowOffset, rowOffset + headDim, ...}); other entries
     * are left as they are.
     */
    public static void logMasses(KvBlockPool pool, float[] queries, int rowOffset, int rows, int[] blockIds, int count, boolean[] which,
                                 float[] out) {
        BlockAttentionKernel.Scratch s = BlockAttentionKernel.scratch(pool, rows);
        for (int r = 0; r < rows; r++) s.rowOffsets[r] = rowOffset + r * pool.headDim();
        BlockAttentionKernel.loadQueries(pool, s, queries, s.rowOffsets, rows);
        for (int i = 0; i < count; i++) {
            if (which[i]) BlockAttentionKernel.logMass(pool, blockIds[i], pool.blockSize(), s, rows, out, i, count);
        }
    }
}
