package ai.aether.kernels.attention;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The rerank's exact block masses against float64 log-sum-exp over the stored (dtype-rounded) keys,
 * for blocks chosen by flag and for a slice of an index list (how the decode shares one selection's
 * candidates out over threads, keeping their logits for the attention); entries not asked for keep
 * what the output arrays held.
 */
class ExactBlockMassTest {

    @ParameterizedTest(name = "{0} rows={1} blockSize={2}")
    @CsvSource({"FP16,3,64", "FP32,1,64", "BF16,4,64", "FP16,2,32", "FP32,3,24", "INT8,3,64", "INT8,2,32"})
    void logMassesMatchFloat64(KvDtype dtype, int rows, int blockSize) {
        int headDim = 64, blocks = 11;
        Random random = new Random(rows * 31L + blockSize);
        KvBlockPool pool = new KvBlockPool(headDim, blockSize, dtype, 0);
        pool.allocateRun(5);  // not at the pool's start
        int[] ids = new int[blocks];
        float[][] keys = new float[blocks][blockSize * headDim];  // [block][token * headDim + d]
        float[] value = new float[headDim];
        for (int b = 0; b < blocks; b++) {
            ids[b] = b % 2 == 0 ? pool.allocateRun(1) : pool.allocate();
            for (int t = 0; t < blockSize; t++) {
                for (int d = 0; d < headDim; d++) keys[b][t * headDim + d] = (float) (1.5 * random.nextGaussian());
                pool.writeToken(ids[b], t, keys[b], t * headDim, value, 0);
            }
        }
        float[][] stored = new float[blocks][blockSize * headDim];  // the keys as the dtype stores them
        for (int b = 0; b < blocks; b++) {
            for (int t = 0; t < blockSize; t++) dtype.roundVector(keys[b], t * headDim, headDim, stored[b], t * headDim);
        }
        float[] queries = new float[3 + rows * headDim];  // rows start at offset 3
        for (int i = 0; i < queries.length; i++) queries[i] = (float) random.nextGaussian();
        boolean[] which = new boolean[blocks];
        int[] chosen = {0, 2, 3, 6, 7, 10, 1};
        for (int b : chosen) which[b] = true;
        float[] out = new float[rows * blocks];
        java.util.Arrays.fill(out, 42f);

        ExactBlockMass.logMasses(pool, queries, 3, rows, ids, blocks, which, out);
        check(out, which, stored, queries, rows, blocks, blockSize, headDim);

        // A slice [2, 5) of an index list: blocks 3, 6 and 7 only.
        int[] indices = {0, 2, 3, 6, 7, 10};
        boolean[] slice = new boolean[blocks];
        slice[3] = slice[6] = slice[7] = true;
        java.util.Arrays.fill(out, 42f);
        float[] logits = new float[indices.length * rows * blockSize];
        ExactBlockMass.logMasses(pool, queries, 3, rows, ids, indices, 2, 5, out, blocks, logits);
        check(out, slice, stored, queries, rows, blocks, blockSize, headDim);
        // The logits handed to the attention: candidate j's row r at [(j * rows + r) * blockSize + t].
        double scale = 1 / Math.sqrt(headDim);
        for (int j = 0; j < indices.length; j++) {
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < blockSize; t++) {
                    float got = logits[(j * rows + r) * blockSize + t];
                    if (j < 2 || j >= 5) {
                        assertEquals(0f, got, "candidate " + j + " is outside the slice");
                        continue;
                    }
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double) queries[3 + r * headDim + d] * stored[indices[j]][t * headDim + d];
                    assertEquals(dot * scale, got, 1e-4 * Math.max(1, Math.abs(dot * scale)), "logit of candidate " + j + " row " + r + " token " + t);
                }
            }
        }
    }

    private static void check(float[] out, boolean[] which, float[][] stored, float[] queries, int rows, int blocks, int blockSize, int headDim) {
        double scale = 1 / Math.sqrt(headDim);
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocks; b++) {
                if (!which[b]) {
                    assertEquals(42f, out[r * blocks + b], "block " + b + " was not asked for and must be left as it was");
                    continue;
                }
                double[] logits = new double[blockSize];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < blockSize; t++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double) queries[3 + r * headDim + d] * stored[b][t * headDim + d];
                    logits[t] = dot * scale;
                    max = Math.max(max, logits[t]);
                }
                double sum = 0;
                for (double l : logits) sum += Math.exp(l - max);
                double expected = max + Math.log(sum);
                assertEquals(expected, out[r * blocks + b], 1e-4 * Math.max(1, Math.abs(expected)), "row " + r + " block " + b);
            }
        }
    }
}
