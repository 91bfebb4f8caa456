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
        int[] indices = new int[count];
        int n = 0;
        for (int i = 0; i < count; i++) if (which[i]) indices[n++] = i;
        logMasses(pool, queries, rowOffset, rows, blockIds, indices, 0, n, out, count, null);
    }

    /**
     * For {@code j} in {@code [from, to)}, block {@code i = indices[j]}: {@code out[r * outStride + i]} =
     * the log mass of block {@code blockIds[i]} (a full block) for query row {@code r}. A slice of a
     * selection's candidates, so that one selection's key reads can be shared out over threads.
     * With {@code logitsOut}, block {@code indices[j]}'s logits also go to
     * {@code logitsOut[(j * rows + r) * blockSize + t]}, for {@link DecodePlan#addBlock(int, int, int, int, float[], int)}.
     */
    public static void logMasses(KvBlockPool pool, float[] queries, int rowOffset, int rows, int[] blockIds, int[] indices, int from, int to,
                                 float[] out, int outStride, float[] logitsOut) {
        if (from >= to) return;
        BlockAttentionKernel.Scratch s = BlockAttentionKernel.scratch(pool, rows);
        for (int r = 0; r < rows; r++) s.rowOffsets[r] = rowOffset + r * pool.headDim();
        BlockAttentionKernel.loadQueries(pool, s, queries, s.rowOffsets, rows);
        int blockSize = pool.blockSize();
        for (int j = from; j < to; j++) {
            BlockAttentionKernel.logMass(pool, blockIds[indices[j]], blockSize, s, rows, out, indices[j], outStride, logitsOut, j * rows * blockSize);
        }
    }
}
