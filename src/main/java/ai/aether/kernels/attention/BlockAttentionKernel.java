package ai.aether.kernels.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The inner loop shared by decode and prefill: a tile of query rows against a run of KV blocks
 * with an fp32 online softmax (running max, running sum, unnormalised accumulator per row).
 * Each key element and value element of a block is loaded once per group of four rows, so a
 * whole GQA group is served by one pass over the block.
 */
final class BlockAttentionKernel {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private BlockAttentionKernel() {}

    /** Per-thread scratch, sized for the pool and the largest tile. */
    static final class Scratch {
        final float[] keyTile;    // [headDim][keyStride]
        final float[] valueTile;  // [blockSize][valueStride]
        final float[] logits;     // [rows][keyStride], probabilities after the softmax step
        final float[] queryRows;  // [rows][headDim], pre-scaled
        final int[] validTokens;  // [rows]
        final int rows;

        Scratch(KvBlockPool pool, int rows) {
            this.rows = rows;
            keyTile = new float[pool.keyElements()];
            valueTile = new float[pool.valueElements()];
            logits = new float[rows * pool.keyStride()];
            queryRows = new float[rows * pool.headDim()];
            validTokens = new int[rows];
        }

        boolean fits(KvBlockPool pool, int neededRows) {
            return rows >= neededRows && keyTile.length == pool.keyElements() && valueTile.length == pool.valueElements()
                    && queryRows.length == rows * pool.headDim() && logits.length == rows * pool.keyStride();
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();

    static Scratch scratch(KvBlockPool pool, int rows) {
        Scratch s = SCRATCH.get();
        if (s == null || !s.fits(pool, rows)) {
            s = new Scratch(pool, Math.max(rows, s == null ? 0 : s.rows));
            SCRATCH.set(s);
        }
        return s;
    }

    /** Resets the online-softmax state of {@code rows} rows. */
    static void initState(float[] max, int maxOffset, float[] sum, int sumOffset, float[] acc, int accOffset, int rows, int valueStride) {
        for (int r = 0; r < rows; r++) {
            max[maxOffset + r] = Float.NEGATIVE_INFINITY;
            sum[sumOffset + r] = 0f;
        }
        java.util.Arrays.fill(acc, accOffset, accOffset + rows * valueStride, 0f);
    }

    /**
     * Folds one block into the state of {@code rows} query rows held in {@code s.queryRows}.
     *
     * @param blockStart  position of the block's first token
     * @param blockTokens valid tokens in the block (the last block may be partial)
     * @param rowLimit    per-row last visible position ({@code [rows]}), or null if all tokens are visible
     */
    static void attendBlock(KvBlockPool pool, int blockId, int blockStart, int blockTokens, Scratch s, int rows,
                            int[] rowLimit, float[] max, int maxOffset, float[] sum, int sumOffset,
                            float[] acc, int accOffset) {
        int headDim = pool.headDim(), keyStride = pool.keyStride(), valueStride = pool.valueStride();
        int maxValid = 0;
        for (int r = 0; r < rows; r++) {
            int n = rowLimit == null ? blockTokens : Math.min(blockTokens, rowLimit[r] - blockStart + 1);
            s.validTokens[r] = Math.max(n, 0);
            maxValid = Math.max(maxValid, s.validTokens[r]);
        }
        if (maxValid == 0) return;
        float[] keys = pool.keysAsFloat(blockId, s.keyTile);
        float[] logits = s.logits;
        int tokenChunks = roundUp(maxValid, LANES);
        for (int r = 0; r < rows; r += 4) {
            logitsFourRows(keys, keyStride, headDim, s.queryRows, r, Math.min(4, rows - r), tokenChunks, logits);
        }
        boolean anyValid = false;
        for (int r = 0; r < rows; r++) {
            anyValid |= softmaxStep(logits, r * keyStride, s.validTokens[r], keyStride, max, maxOffset + r,
                    sum, sumOffset + r, acc, accOffset + r * valueStride, valueStride);
        }
        if (!anyValid) return;
        float[] values = pool.valuesAsFloat(blockId, s.valueTile);
        for (int r = 0; r < rows; r += 4) {
            int group = Math.min(4, rows - r);
            int tokens = 0;
            for (int i = 0; i < group; i++) tokens = Math.max(tokens, s.validTokens[r + i]);
            accumulateFourRows(values, valueStride, logits, keyStride, r, group, tokens, acc, accOffset);
        }
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /**
     * logits[row][t] = q_row . k_t for up to four rows at once: one load of each transposed key
     * chunk feeds four FMAs. A missing 4th (3rd, 2nd) row repeats the last real row, whose
     * duplicate stores write the same numbers.
     */
    private static void logitsFourRows(float[] keys, int keyStride, int headDim, float[] queryRows, int firstRow,
                                       int group, int tokenChunks, float[] logits) {
        int q0 = firstRow * headDim;
        int q1 = (firstRow + Math.min(1, group - 1)) * headDim;
        int q2 = (firstRow + Math.min(2, group - 1)) * headDim;
        int q3 = (firstRow + Math.min(3, group - 1)) * headDim;
        for (int c = 0; c < tokenChunks; c += LANES) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector k = FloatVector.fromArray(SPECIES, keys, d * keyStride + c);
                a0 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q3 + d]), a3);
            }
            a0.intoArray(logits, (q0 / headDim) * keyStride + c);
            a1.intoArray(logits, (q1 / headDim) * keyStride + c);
            a2.intoArray(logits, (q2 / headDim) * keyStride + c);
            a3.intoArray(logits, (q3 / headDim) * keyStride + c);
        }
    }

    /**
     * Online-softmax update of one row: turns its logits into exp(logit - newMax) in place
     * (zero past {@code valid}), rescales the running sum and accumulator. Returns false when
     * the row sees no token of this block.
     */
    private static boolean softmaxStep(float[] logits, int offset, int valid, int keyStride, float[] max, int maxIndex,
                                       float[] sum, int sumIndex, float[] acc, int accOffset, int valueStride) {
        if (valid == 0) {
            java.util.Arrays.fill(logits, offset, offset + keyStride, 0f);
            return false;
        }
        int chunks = roundUp(valid, LANES);
        for (int t = valid; t < chunks; t++) logits[offset + t] = Float.NEGATIVE_INFINITY;
        FloatVector blockMaxV = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        for (int t = 0; t < chunks; t += LANES) blockMaxV = blockMaxV.max(FloatVector.fromArray(SPECIES, logits, offset + t));
        float blockMax = blockMaxV.reduceLanes(VectorOperators.MAX);
        float oldMax = max[maxIndex];
        float newMax = Math.max(oldMax, blockMax);
        FloatVector sumV = FloatVector.zero(SPECIES);
        for (int t = 0; t < chunks; t += LANES) {
            FloatVector p = FloatVector.fromArray(SPECIES, logits, offset + t).sub(newMax).lanewise(VectorOperators.EXP);
            p.intoArray(logits, offset + t);
            sumV = sumV.add(p);
        }
        for (int t = chunks; t < keyStride; t++) logits[offset + t] = 0f;
        float blockSum = sumV.reduceLanes(VectorOperators.ADD);
        if (newMax > oldMax && oldMax != Float.NEGATIVE_INFINITY) {
            float alpha = (float) Math.exp(oldMax - newMax);
            sum[sumIndex] *= alpha;
            for (int d = 0; d < valueStride; d += LANES) {
                FloatVector.fromArray(SPECIES, acc, accOffset + d).mul(alpha).intoArray(acc, accOffset + d);
            }
        }
        max[maxIndex] = newMax;
        sum[sumIndex] += blockSum;
        return true;
    }

    /** acc[row] += sum_t p[row][t] * v_t for up to four rows: each value chunk is loaded once per group. */
    private static void accumulateFourRows(float[] values, int valueStride, float[] probabilities, int keyStride,
                                           int firstRow, int group, int tokens, float[] acc, int accOffset) {
        int r0 = firstRow, r1 = firstRow + Math.min(1, group - 1), r2 = firstRow + Math.min(2, group - 1), r3 = firstRow + Math.min(3, group - 1);
        int p0 = r0 * keyStride, p1 = r1 * keyStride, p2 = r2 * keyStride, p3 = r3 * keyStride;
        for (int c = 0; c < valueStride; c += LANES) {
            int o0 = accOffset + r0 * valueStride + c, o1 = accOffset + r1 * valueStride + c;
            int o2 = accOffset + r2 * valueStride + c, o3 = accOffset + r3 * valueStride + c;
            FloatVector a0 = FloatVector.fromArray(SPECIES, acc, o0), a1 = FloatVector.fromArray(SPECIES, acc, o1);
            FloatVector a2 = FloatVector.fromArray(SPECIES, acc, o2), a3 = FloatVector.fromArray(SPECIES, acc, o3);
            for (int t = 0; t < tokens; t++) {
                FloatVector v = FloatVector.fromArray(SPECIES, values, t * valueStride + c);
                a0 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p0 + t]), a0);
                a1 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p1 + t]), a1);
                a2 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p2 + t]), a2);
                a3 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p3 + t]), a3);
            }
            a0.intoArray(acc, o0);
            a1.intoArray(acc, o1);
            a2.intoArray(acc, o2);
            a3.intoArray(acc, o3);
        }
    }
}
