package ai.aether.kernels.attention;

import ai.aether.kernels.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decode over the block pool for every GQA group size the kernel specialises (4-row, 3-row and
 * single-row passes, and their mixes: 5 = 4 + 1, 7 = 4 + 3), each storage type, blocks taken one
 * by one and in runs that cross slab boundaries, against float64 attention written out here on
 * the stored (dtype-rounded; INT8: per-token scale and codes) keys and values, on two threads (lists split into several work
 * units, merged by log-sum-exp) and on one, with a head dimension that is not a multiple of four
 * vectors (48: the kernels' leftover-chunk loops), and with blocks of 32 and 48 tokens (the logit
 * kernels' two-chunk and one-chunk passes). Only fp32 summation order differs, so 1e-5
 * relative to the largest output element bounds it (observed ~1e-6).
 */
class DecodeGroupShapesTest {

    @ParameterizedTest(name = "group={0} kvHeads={1} {2} length={3} runs={4} threads={5} headDim={6} block={7}")
    @CsvSource({
        "1,2,FP32,130,false,2,64,64",
        "2,2,FP16,200,true,2,64,64",
        "3,3,FP16,1000,true,2,64,64",
        "3,3,BF16,257,false,2,64,64",
        "3,1,FP32,64,true,2,64,64",
        "4,2,FP16,700,true,2,64,64",
        "5,1,FP32,90,false,2,64,64",
        "7,2,FP16,333,true,2,64,64",
        "9,1,BF16,129,true,2,64,64",
        "3,3,FP16,1000,true,1,64,64",
        "1,1,FP16,333,false,1,64,64",
        "4,2,FP32,520,true,1,64,64",
        "7,1,BF16,700,false,1,64,64",
        "3,2,FP16,450,true,1,48,64",
        "1,1,FP32,260,true,1,48,64",
        "3,3,FP16,1000,true,2,64,32",
        "4,2,BF16,700,true,1,64,32",
        "1,2,FP32,333,false,2,64,48",
        "3,1,FP16,520,true,1,48,32",
        "7,1,FP16,450,true,2,64,32",
        "3,3,INT8,1000,true,2,64,64",
        "4,2,INT8,700,true,1,64,32",
        "1,2,INT8,333,false,2,64,48",
        "7,1,INT8,450,true,2,48,64"
    })
    void decodeMatchesFloat64Reference(int group, int kvHeads, KvDtype dtype, int length, boolean runs, int threads, int headDim, int blockSize) {
        Parallel.setThreads(threads);
        int heads = group * kvHeads;
        Random random = new Random(group * 1000L + length);
        float[][] keys = new float[kvHeads][length * headDim], values = new float[kvHeads][length * headDim];  // [kvHeads][length*headDim]
        for (int h = 0; h < kvHeads; h++) {
            for (int i = 0; i < length * headDim; i++) {
                keys[h][i] = (float) random.nextGaussian();
                values[h][i] = (float) random.nextGaussian();
            }
        }
        float[] queries = new float[heads * headDim];  // [heads][headDim]
        for (int i = 0; i < queries.length; i++) queries[i] = (float) (2 * random.nextGaussian());

        KvBlockPool pool = new KvBlockPool(headDim, blockSize, dtype, 0);
        int blocks = (length + blockSize - 1) / blockSize;
        pool.allocateRun(37);  // start the sequence part-way into a slab, so runs cross slab boundaries
        DecodePlan plan = new DecodePlan(1, heads, kvHeads, headDim, false);
        plan.setSequenceLength(0, length);
        for (int h = 0; h < kvHeads; h++) {
            int first = runs ? pool.allocateRun(blocks) : -1;
            for (int b = 0; b < blocks; b++) {
                int id = runs ? first + b : pool.allocate();
                for (int slot = 0; slot < blockSize && b * blockSize + slot < length; slot++) {
                    int at = (b * blockSize + slot) * headDim;
                    pool.writeToken(id, slot, keys[h], at, values[h], at);
                }
                plan.addBlock(0, h, id, b);
            }
        }
        AttentionBackend backend = AttentionBackend.cpu();
        backend.plan(plan, pool);
        float[] out = new float[heads * headDim];
        backend.decode(pool, plan, queries, out);

        float[][] storedKeys = new float[kvHeads][length * headDim], storedValues = new float[kvHeads][length * headDim];  // as the dtype stores them
        for (int h = 0; h < kvHeads; h++) {
            for (int t = 0; t < length; t++) {
                dtype.roundVector(keys[h], t * headDim, headDim, storedKeys[h], t * headDim);
                dtype.roundVector(values[h], t * headDim, headDim, storedValues[h], t * headDim);
            }
        }
        double scale = 1 / Math.sqrt(headDim), worst = 0, largest = 0;
        double[] expected = new double[heads * headDim];
        for (int head = 0; head < heads; head++) {
            int kv = head / group;
            double[] logits = new double[length];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < length; t++) {
                double dot = 0;
                for (int d = 0; d < headDim; d++) dot += (double) queries[head * headDim + d] * storedKeys[kv][t * headDim + d];
                logits[t] = dot * scale;
                max = Math.max(max, logits[t]);
            }
            double sum = 0;
            for (int t = 0; t < length; t++) sum += Math.exp(logits[t] - max);
            for (int t = 0; t < length; t++) {
                double p = Math.exp(logits[t] - max) / sum;
                for (int d = 0; d < headDim; d++) expected[head * headDim + d] += p * storedValues[kv][t * headDim + d];
            }
        }
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(out[i] - expected[i]));
            largest = Math.max(largest, Math.abs(expected[i]));
        }
        assertTrue(worst <= 1e-5 * Math.max(largest, 1e-3), "worst |out - reference| " + worst + " (largest output " + largest + ")");
    }

    @Test
    void runsAreConsecutiveAndRecycledIdsComeBackFirst() {
        KvBlockPool pool = new KvBlockPool(64, 64, KvDtype.FP16, 0);
        int first = pool.allocateRun(100);
        assertEquals(0, first);
        assertEquals(100, pool.allocateRun(5));
        pool.release(42);
        assertEquals(42, pool.allocate(), "a released id is handed out again by allocate()");
        assertEquals(105, pool.allocateRun(1), "runs take fresh ids only");
        assertEquals(106, pool.blocksInUse());
        assertTrue(pool.capacity() >= 106);
    }

    @Test
    void tokensRoundTripInEveryBlockOfARunAcrossSlabs() {
        int headDim = 24, blockSize = 16;
        KvBlockPool pool = new KvBlockPool(headDim, blockSize, KvDtype.FP32, 3);
        int blocks = 3000;  // far more than one 1 MiB slab holds at this shape
        int first = pool.allocateRun(blocks);
        float[] key = new float[headDim], value = new float[headDim], readBack = new float[headDim];
        for (int b = 0; b < blocks; b += 7) {
            int slot = b % blockSize;
            for (int d = 0; d < headDim; d++) {
                key[d] = b * 1000 + d;
                value[d] = -(b * 1000 + d);
            }
            pool.writeToken(first + b, slot, key, 0, value, 0);
        }
        for (int b = 0; b < blocks; b += 7) {
            int slot = b % blockSize;
            pool.readKey(first + b, slot, readBack, 0);
            for (int d = 0; d < headDim; d++) assertEquals(b * 1000 + d, readBack[d], "key of block " + b + " dim " + d);
            pool.readValue(first + b, slot, readBack, 0);
            for (int d = 0; d < headDim; d++) assertEquals(-(b * 1000 + d), readBack[d], "value of block " + b + " dim " + d);
        }
    }
}
