package ai.aether.model;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.SelectionMode;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The AETHER cache behind the model's KV interface: sparse decode, rewinds, statistics, bad input. */
class AetherKvCacheTest {
    static final int LAYERS = 2, KV_HEADS = 2, HEADS = 6, DIM = 16, BLOCK = 8, CAPACITY = 128;

    static AetherConfig.Builder sparse() {
        return AetherConfig.builder().blockSize(BLOCK).kvDtype(KvDtype.FP32).minSeqLength(0).minKeptTokens(0)
                .selection(SelectionMode.TARGET_SPARSITY).targetSparsity(0.5).sinkBlocks(1).localWindow(1);
    }

    static float[] gaussian(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    static AetherKvCache cache(AetherConfig config) {
        return new AetherKvCache(KvCacheAttentionTest.config(LAYERS, KV_HEADS, DIM), CAPACITY, config);
    }

    /** float64 softmax attention of one query head over the given positions. */
    static double[] reference(float[] q, int qOffset, float[] keys, float[] values, int kv, boolean[] visible) {
        int n = visible.length;
        double[] logits = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            if (!visible[p]) continue;
            double s = 0;
            for (int d = 0; d < DIM; d++) s += (double) q[qOffset + d] * keys[(p * KV_HEADS + kv) * DIM + d];
            logits[p] = s / Math.sqrt(DIM);
            max = Math.max(max, logits[p]);
        }
        double sum = 0;
        double[] out = new double[DIM];
        for (int p = 0; p < n; p++) {
            if (!visible[p]) continue;
            double w = Math.exp(logits[p] - max);
            sum += w;
            for (int d = 0; d < DIM; d++) out[d] += w * values[(p * KV_HEADS + kv) * DIM + d];
        }
        for (int d = 0; d < DIM; d++) out[d] /= sum;
        return out;
    }

    @Test
    void sparseDecodeIsExactAttentionOverTheKeptBlocks() {
        Random random = new Random(11);
        int tokens = 100, stride = KV_HEADS * DIM;  // 12 full blocks and a partial one
        float[] keys = gaussian(random, tokens * stride), values = gaussian(random, tokens * stride);
        AetherKvCache cache = cache(sparse().build());
        cache.write(1, 0, tokens - 1, keys, values);
        cache.write(1, tokens - 1, 1, Arrays.copyOfRange(keys, (tokens - 1) * stride, tokens * stride),
                Arrays.copyOfRange(values, (tokens - 1) * stride, tokens * stride));
        float[] q = gaussian(random, HEADS * DIM), out = new float[HEADS * DIM];
        cache.attend(1, tokens - 1, 1, q, HEADS, out);

        DecodePlan plan = cache.attention().lastPlan();
        int blocks = (tokens + BLOCK - 1) / BLOCK, expectedKept = (int) Math.ceil(0.5 * blocks);
        for (int kv = 0; kv < KV_HEADS; kv++) {
            assertEquals(expectedKept, plan.keptCount(0, kv), "blocks kept for KV head " + kv);
            boolean[] visible = new boolean[tokens];
            for (int i = 0; i < plan.keptCount(0, kv); i++) {
                int start = plan.keptLogicalBlock(0, kv, i) * BLOCK;
                for (int p = start; p < Math.min(tokens, start + BLOCK); p++) visible[p] = true;
            }
            assertTrue(visible[0] && visible[tokens - 1], "the sink block and the newest block are kept");
            for (int h = kv * (HEADS / KV_HEADS); h < (kv + 1) * (HEADS / KV_HEADS); h++) {
                double[] want = reference(q, h * DIM, keys, values, kv, visible);
                for (int d = 0; d < DIM; d++) assertEquals(want[d], out[h * DIM + d], 1e-5, "head " + h + " dim " + d);
            }
        }
        assertEquals(1.0 - (double) expectedKept / blocks, cache.lastStep(1).sparsity(), 1e-12);
        assertEquals(0, cache.decodeSteps(), "a step starts at layer 0; only layer 1 ran here");
    }

    @Test
    void rewritingAPrefixGivesTheSameCacheAsWritingItFresh() {
        Random random = new Random(5);
        int stride = KV_HEADS * DIM;
        float[] first = gaussian(random, 60 * stride), firstValues = gaussian(random, 60 * stride);
        float[] second = gaussian(random, 30 * stride), secondValues = gaussian(random, 30 * stride);
        AetherKvCache rewound = cache(sparse().build()), fresh = cache(sparse().build());
        rewound.write(0, 0, 60, first, firstValues);
        rewound.write(0, 37, 30, second, secondValues);  // rewinds into block 4 (positions 32..39)
        fresh.write(0, 0, 37, first, firstValues);
        fresh.write(0, 37, 30, second, secondValues);
        assertEquals(67, rewound.length(0));

        float[] q = gaussian(random, HEADS * DIM), a = new float[HEADS * DIM], b = new float[HEADS * DIM];
        float[] lastK = Arrays.copyOfRange(second, 29 * stride, 30 * stride), lastV = Arrays.copyOfRange(secondValues, 29 * stride, 30 * stride);
        rewound.write(0, 66, 1, lastK, lastV);
        fresh.write(0, 66, 1, lastK, lastV);
        rewound.attend(0, 66, 1, q, HEADS, a);
        fresh.attend(0, 66, 1, q, HEADS, b);
        assertArrayEquals(b, a, "rewound and fresh caches attend identically (same blocks, same metadata)");

        rewound.truncate(20);
        assertEquals(20, rewound.length(0));
        assertEquals(0, rewound.length(1));
    }

    @Test
    void aNewConfigDoesNotDecodeWithTheOldConfigsRememberedSelection() {
        Random random = new Random(13);
        int tokens = 64, stride = KV_HEADS * DIM;
        AetherKvCache cache = cache(sparse().reselectInterval(8).build());
        float[] q = gaussian(random, HEADS * DIM), out = new float[HEADS * DIM];
        cache.write(1, 0, tokens, gaussian(random, tokens * stride), gaussian(random, tokens * stride));
        cache.attend(1, tokens - 1, 1, q, HEADS, out);
        assertEquals(0.5, cache.lastStep(1).sparsity(), 1e-12, "target 0.5 over 8 blocks");
        cache.write(1, tokens, 1, gaussian(random, stride), gaussian(random, stride));
        cache.attend(1, tokens, 1, q, HEADS, out);
        assertEquals(0, cache.lastStep(1).metadataBytesRead(), "the second step reuses the selection");
        assertTrue(cache.lastStep(1).sparsity() > 0);
        cache.setConfig(null);
        cache.write(1, tokens + 1, 1, gaussian(random, stride), gaussian(random, stride));
        cache.attend(1, tokens + 1, 1, q, HEADS, out);
        assertEquals(0.0, cache.lastStep(1).sparsity(), "dense after setConfig(null), though the interval has not run out");
    }

    @Test
    void denseLayersAndShortSequencesKeepEveryBlock() {
        Random random = new Random(9);
        int tokens = 64, stride = KV_HEADS * DIM;
        AetherKvCache cache = cache(sparse().denseLayers(0).build());
        float[] q = gaussian(random, HEADS * DIM), out = new float[HEADS * DIM];
        for (int layer = 0; layer < LAYERS; layer++) {
            cache.write(layer, 0, tokens, gaussian(random, tokens * stride), gaussian(random, tokens * stride));
            cache.attend(layer, tokens - 1, 1, q, HEADS, out);
        }
        assertEquals(0.0, cache.lastStep(0).sparsity(), "dense layer 0");
        assertEquals(0.5, cache.lastStep(1).sparsity(), 1e-12, "layer 1 at target 0.5 over 8 blocks");
        assertEquals(1, cache.decodeSteps());

        cache.setConfig(null);  // dense over the same blocks
        cache.attend(1, tokens - 1, 1, q, HEADS, out);
        assertEquals(0.0, cache.lastStep(1).sparsity(), "after setConfig(null) every block is read");
        assertThrows(IllegalArgumentException.class, () -> cache.setConfig(sparse().blockSize(16).build()));

        AetherKvCache shortCache = cache(sparse().minSeqLength(1000).build());
        shortCache.write(1, 0, tokens, gaussian(random, tokens * stride), gaussian(random, tokens * stride));
        shortCache.attend(1, tokens - 1, 1, q, HEADS, out);
        assertEquals(0.0, shortCache.lastStep(1).sparsity(), "below minSeqLength attention is dense");
    }

    @Test
    void calibratedBudgetsComeFromThePrefillAndLastUntilThePromptChanges() {
        Random random = new Random(21);
        int tokens = 120, stride = KV_HEADS * DIM;
        float[] keys = gaussian(random, tokens * stride), values = gaussian(random, tokens * stride);
        float[] flat = new float[values.length];
        Arrays.fill(flat, 0.25f);  // layer 0: equal values, so its output needs no blocks beyond the forced ones
        AetherConfig calibrated = sparse().targetSparsity(0.75).layerBudgets(ai.aether.attention.LayerBudgets.CALIBRATED).build();
        AetherKvCache cache = cache(calibrated);
        int prompt = tokens - 1;
        for (int layer = 0; layer < LAYERS; layer++) {
            cache.write(layer, 0, prompt, keys, layer == 0 ? flat : values);
            cache.attend(layer, 0, prompt, gaussian(random, prompt * HEADS * DIM), HEADS, new float[prompt * HEADS * DIM]);
        }
        decodeOne(cache, keys, flat, values, prompt, random);
        assertTrue(cache.budgetScale(0) < 1 && cache.budgetScale(1) > 1,
                "layer 0 gives blocks to layer 1: scales " + cache.budgetScale(0) + ", " + cache.budgetScale(1));
        long spent = cache.calibrationNanos();
        assertTrue(spent > 0, "a calibration ran");
        cache.truncate(prompt);  // back to the end of the prompt: same calibration, not recomputed
        decodeOne(cache, keys, flat, values, prompt, random);
        assertEquals(spent, cache.calibrationNanos(), "the calibration is reused after a rewind to the prompt's end");
        assertEquals(spent, cache.currentCalibrationNanos(), "the report gives the one calibration's time, not 0 for a reused one");
        cache.setConfig(sparse().targetSparsity(0.75).layerBudgets(ai.aether.attention.LayerBudgets.UNIFORM).build());
        decodeOne(cache, keys, flat, values, prompt, random);
        assertEquals(1.0, cache.budgetScale(0), "UNIFORM budgets");
        cache.setConfig(calibrated);
        cache.truncate(prompt - 10);  // into the prompt: the calibration rows are gone
        for (int p = prompt - 10; p < prompt; p++) decodeOne(cache, keys, flat, values, p, random);
        assertEquals(1.0, cache.budgetScale(0), "no rows left to calibrate from: uniform");
    }

    @Test
    void theMostSensitiveLayersRerankOnceTheirSensitivitiesAreKnown() {
        Random random = new Random(5);
        int tokens = 120, stride = KV_HEADS * DIM;
        float[] keys = gaussian(random, tokens * stride), values = gaussian(random, tokens * stride);
        AetherConfig config = sparse().rerankFactor(2).rerankShare(0.5).build();
        AetherKvCache cache = cache(config);
        int prompt = tokens - 1;
        for (int layer = 0; layer < LAYERS; layer++) {
            cache.write(layer, 0, prompt, keys, values);
            cache.attend(layer, 0, prompt, gaussian(random, prompt * HEADS * DIM), HEADS, new float[prompt * HEADS * DIM]);
        }
        decodeOne(cache, keys, values, values, prompt, random);
        for (int layer = 0; layer < LAYERS; layer++) assertFalse(cache.reranks(layer), "no sensitivities: no layer chosen");
        double[] sensitivity = new double[LAYERS];
        sensitivity[LAYERS - 1] = 1.0;
        cache.setLayerSensitivity(sensitivity);
        decodeOne(cache, keys, values, values, prompt, random);
        assertTrue(cache.reranks(LAYERS - 1), "the most sensitive layer reranks");
        int chosen = 0;
        for (int layer = 0; layer < LAYERS; layer++) if (cache.reranks(layer)) chosen++;
        assertEquals((int) Math.ceil(0.5 * LAYERS), chosen);
        assertTrue(cache.lastStep(LAYERS - 1).rerankBytesRead() > 0, "the rerank read keys");
        assertEquals(0, cache.lastStep(0).rerankBytesRead());
        cache.setConfig(sparse().rerankFactor(1).rerankShare(0.5).build());
        decodeOne(cache, keys, values, values, prompt, random);
        assertFalse(cache.reranks(LAYERS - 1), "factor 1: off");
    }

    private static void decodeOne(AetherKvCache cache, float[] keys, float[] flat, float[] values, int position, Random random) {
        int stride = KV_HEADS * DIM;
        cache.truncate(position);
        for (int layer = 0; layer < LAYERS; layer++) {
            float[] v = layer == 0 ? flat : values;
            cache.write(layer, position, 1, Arrays.copyOfRange(keys, position * stride, (position + 1) * stride),
                    Arrays.copyOfRange(v, position * stride, (position + 1) * stride));
            cache.attend(layer, position, 1, gaussian(random, HEADS * DIM), HEADS, new float[HEADS * DIM]);
        }
    }

    @Test
    void badInputNamesTheProblem() {
        AetherKvCache cache = cache(sparse().build());
        float[] kv = new float[KV_HEADS * DIM];
        IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> cache.write(0, 5, 1, kv, kv));
        assertTrue(gap.getMessage().contains("gap"), gap.getMessage());
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> cache.write(0, CAPACITY, 1, kv, kv));
        assertTrue(full.getMessage().contains("capacity"), full.getMessage());
        IllegalArgumentException layers = assertThrows(IllegalArgumentException.class, () -> cache(sparse().denseLayers(7).build()));
        assertTrue(layers.getMessage().contains("denseLayers"), layers.getMessage());
        cache.write(0, 0, 1, kv, kv);
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class, () -> cache.attend(0, 0, 1, new float[4 * DIM], 4, new float[4 * DIM]));
        assertTrue(heads.getMessage().contains("query heads"), heads.getMessage());
    }
}
