package ai.aether.attention;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The blocked cache through the engine-facing path: appends, metadata, decode and prefill. */
class SequenceKvCacheTest {

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /** Keys/values of one layer as appended, [S][Hkv][D], plus per-head copies [Hkv][S][D]. */
    private static float[] perHead(float[] tokensMajor, int h, int heads, int length, int dim) {
        float[] out = new float[length * dim];
        for (int t = 0; t < length; t++) System.arraycopy(tokensMajor, (t * heads + h) * dim, out, t * dim, dim);
        return out;
    }

    @Test
    void appendTouchesOnlyTheOpenBlockAndFinalisesFullBlocks() {
        int dim = 8, blockSize = 16, kvHeads = 2;
        AetherKvPool pool = new AetherKvPool(dim, blockSize, KvDtype.FP32, 0);
        SequenceKvCache cache = pool.newSequence(2, kvHeads);
        Random r = new Random(1);
        float[] keys = Reference.gaussian(r, 40 * kvHeads * dim, 1), values = Reference.gaussian(r, 40 * kvHeads * dim, 1);
        cache.append(1, keys, values, 15);
        assertEquals(1, cache.blockCount(1));
        assertFalse(pool.metadata().hasMetadata(cache.blockId(1, 0, 0)), "partial block must have no final metadata");
        float[] one = new float[kvHeads * dim];
        System.arraycopy(keys, 15 * kvHeads * dim, one, 0, one.length);
        float[] oneValue = new float[kvHeads * dim];
        System.arraycopy(values, 15 * kvHeads * dim, oneValue, 0, one.length);
        cache.append(1, one, oneValue, 1);
        assertTrue(pool.metadata().hasMetadata(cache.blockId(1, 0, 0)));
        assertTrue(pool.metadata().hasMetadata(cache.blockId(1, 1, 0)));
        float meanBefore = pool.metadata().meanDirection(cache.blockId(1, 0, 0), 3);
        float[] rest = new float[24 * kvHeads * dim], restValues = new float[24 * kvHeads * dim];
        System.arraycopy(keys, 16 * kvHeads * dim, rest, 0, rest.length);
        System.arraycopy(values, 16 * kvHeads * dim, restValues, 0, rest.length);
        cache.append(1, rest, restValues, 24);
        assertEquals(40, cache.length(1));
        assertEquals(0, cache.length(0));
        assertEquals(3, cache.blockCount(1));
        assertEquals(meanBefore, pool.metadata().meanDirection(cache.blockId(1, 0, 0), 3), "a full block's metadata is final");
        assertFalse(pool.metadata().hasMetadata(cache.blockId(1, 0, 2)));
        float[] row = new float[dim];
        for (int t = 0; t < 40; t++) {
            pool.blocks().readKey(cache.blockId(1, 1, t / blockSize), t % blockSize, row, 0);
            for (int d = 0; d < dim; d++) assertEquals(keys[(t * kvHeads + 1) * dim + d], row[d]);
            pool.blocks().readValue(cache.blockId(1, 1, t / blockSize), t % blockSize, row, 0);
            for (int d = 0; d < dim; d++) assertEquals(values[(t * kvHeads + 1) * dim + d], row[d]);
        }
        cache.release();
        assertEquals(0, pool.blocks().blocksInUse());
    }

    @Test
    void metadataMatchesTheSpecFormulasInFloat64() {
        int dim = 12, blockSize = 32;
        AetherKvPool pool = new AetherKvPool(dim, blockSize, KvDtype.FP32, 0);
        SequenceKvCache cache = pool.newSequence(1, 1);
        Random r = new Random(2);
        float[] keys = Reference.gaussian(r, blockSize * dim, 1.5);
        for (int i = 0; i < dim; i++) keys[5 * dim + i] *= 20;  // one large-norm outlier
        cache.append(0, keys, new float[keys.length], blockSize);
        int id = cache.blockId(0, 0, 0);
        BlockMetadataStore m = pool.metadata();
        double[] norms = new double[blockSize], mu = new double[dim], mean = new double[dim];
        for (int t = 0; t < blockSize; t++) {
            for (int d = 0; d < dim; d++) norms[t] += keys[t * dim + d] * (double) keys[t * dim + d];
            norms[t] = Math.sqrt(norms[t]);
            for (int d = 0; d < dim; d++) {
                mu[d] += keys[t * dim + d] / norms[t];
                mean[d] += keys[t * dim + d] / (double) blockSize;
            }
        }
        double muNorm = 0;
        for (double v : mu) muNorm += v * v;
        muNorm = Math.sqrt(muNorm);
        for (int d = 0; d < dim; d++) mu[d] /= muNorm;
        double radius = 0, var = 0, conc = 0, rawRadius = 0;
        for (int t = 0; t < blockSize; t++) {
            double dev = 0, dot = 0, raw = 0;
            for (int d = 0; d < dim; d++) {
                double khat = keys[t * dim + d] / norms[t];
                dev += (khat - mu[d]) * (khat - mu[d]);
                dot += khat * mu[d];
                raw += (keys[t * dim + d] - mean[d]) * (keys[t * dim + d] - mean[d]);
            }
            radius = Math.max(radius, Math.sqrt(dev));
            var += dev / blockSize;
            conc += dot / blockSize;
            rawRadius = Math.max(rawRadius, Math.sqrt(raw));
        }
        for (int d = 0; d < dim; d++) {
            assertEquals(mu[d], m.meanDirection(id, d), 1e-6);
            assertEquals(mean[d], m.centroid(id, d), 1e-6);
            double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
            for (int t = 0; t < blockSize; t++) {
                lo = Math.min(lo, keys[t * dim + d]);
                hi = Math.max(hi, keys[t * dim + d]);
            }
            assertTrue(m.boxMin(id, d) <= lo + 1e-6 && m.boxMin(id, d) >= lo - 1e-5, "box min, channel " + d);
            assertTrue(m.boxMax(id, d) >= hi - 1e-6 && m.boxMax(id, d) <= hi + 1e-5, "box max, channel " + d);
        }
        assertEquals(radius, m.angularRadius(id), 1e-5);
        assertEquals(var, m.variance(id), 1e-5);
        assertEquals(Math.clamp(conc, 0.1, 1.0), m.concentration(id), 1e-5);
        assertEquals(rawRadius, m.centroidRadius(id), 1e-4);
        double nMin = Double.MAX_VALUE, nMax = 0;
        for (double n : norms) { nMin = Math.min(nMin, n); nMax = Math.max(nMax, n); }
        assertEquals(nMin, m.minNorm(id), 1e-5);
        assertEquals(nMax, m.maxNorm(id), 1e-4);
    }

    @ParameterizedTest(name = "{0} threads={1}")
    @CsvSource({"FP32,1", "FP16,2", "BF16,2", "INT8,2"})
    void decodeThroughTheCacheMatchesReference(KvDtype dtype, int threads) {
        Parallel.setThreads(threads);
        int queryHeads = 6, kvHeads = 3, dim = 64, blockSize = 32, length = 1000;
        AetherConfig config = AetherConfig.builder().blockSize(blockSize).kvDtype(dtype).selection(SelectionMode.TOP_K).topK(5)
                .minSeqLength(0).build();
        AetherKvPool pool = AetherKvPool.forConfig(config, dim, 0);
        SequenceKvCache[] caches = {pool.newSequence(2, kvHeads), pool.newSequence(2, kvHeads)};
        Random r = new Random(3);
        float[][] keys = new float[2][], values = new float[2][];
        for (int b = 0; b < 2; b++) {
            keys[b] = Reference.gaussian(r, length * kvHeads * dim, 1);
            values[b] = Reference.gaussian(r, length * kvHeads * dim, 1);
            caches[b].append(1, keys[b], values[b], 700);  // bulk, then token by token
            for (int t = 700; t < length; t++) {
                float[] k = new float[kvHeads * dim], v = new float[kvHeads * dim];
                System.arraycopy(keys[b], t * kvHeads * dim, k, 0, k.length);
                System.arraycopy(values[b], t * kvHeads * dim, v, 0, v.length);
                caches[b].append(1, k, v, 1);
            }
        }
        float[] queries = Reference.gaussian(r, 2 * queryHeads * dim, 2), out = new float[queries.length];
        AetherAttention attention = new AetherAttention(config, queryHeads, kvHeads, dim);
        AttentionStats stats = new AttentionStats();
        attention.decode(1, caches, queries, out, stats);
        DecodePlan plan = attention.lastPlan();
        int blocks = (length + blockSize - 1) / blockSize;
        assertEquals(2L * kvHeads * blocks, stats.blocksTotal());
        assertEquals(2L * kvHeads * (1 + 4 + 5), stats.blocksKept(), "sink + window + top 5 per KV head");
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < queryHeads; h++) {
                int kvHead = h / 2;
                boolean[] kept = new boolean[blocks];
                for (int i = 0; i < plan.keptCount(b, kvHead); i++) kept[plan.keptLogicalBlock(b, kvHead, i)] = true;
                double[] expected = Reference.attention(queries, (b * queryHeads + h) * dim,
                        Reference.rounded(perHead(keys[b], kvHead, kvHeads, length, dim), dtype, dim),
                        Reference.rounded(perHead(values[b], kvHead, kvHeads, length, dim), dtype, dim), length, dim, blockSize, kept, length - 1);
                double err = Reference.relativeError(out, (b * queryHeads + h) * dim, expected);
                assertTrue(err < 1e-5, "sequence " + b + " head " + h + ": relative error " + err);
            }
        }
        // Dense layers read everything.
        AetherAttention denseLayer = new AetherAttention(config.toBuilder().denseLayers(1).build(), queryHeads, kvHeads, dim);
        AttentionStats denseStats = new AttentionStats();
        denseLayer.decode(1, caches, queries, out, denseStats);
        assertEquals(denseStats.blocksTotal(), denseStats.blocksKept());
        assertEquals(denseStats.kvBytesDense(), denseStats.kvBytesRead());
    }

    @ParameterizedTest(name = "{0} first={1} tokens={2} threads={3}")
    @CsvSource({"FP32,0,200,2", "FP16,130,77,2", "FP32,0,1,1", "BF16,64,300,1", "INT8,64,300,2"})
    void prefillIsCausal(KvDtype dtype, int first, int tokens, int threads) {
        Parallel.setThreads(threads);
        int queryHeads = 8, kvHeads = 2, dim = 32, blockSize = 64, length = first + tokens;
        AetherConfig config = AetherConfig.builder().blockSize(blockSize).kvDtype(dtype).build();
        AetherKvPool pool = AetherKvPool.forConfig(config, dim, 0);
        SequenceKvCache cache = pool.newSequence(1, kvHeads);
        Random r = new Random(first + tokens);
        float[] keys = Reference.gaussian(r, length * kvHeads * dim, 1), values = Reference.gaussian(r, length * kvHeads * dim, 1);
        cache.append(0, keys, values, length);
        float[] queries = Reference.gaussian(r, tokens * queryHeads * dim, 2), out = new float[queries.length];
        new AetherAttention(config, queryHeads, kvHeads, dim).prefill(0, cache, first, tokens, queries, out);
        for (int h = 0; h < kvHeads; h++) {
            float[] k = Reference.rounded(perHead(keys, h, kvHeads, length, dim), dtype, dim);
            float[] v = Reference.rounded(perHead(values, h, kvHeads, length, dim), dtype, dim);
            for (int i = 0; i < tokens; i++) {
                for (int j = 0; j < queryHeads / kvHeads; j++) {
                    int offset = (i * queryHeads + h * (queryHeads / kvHeads) + j) * dim;
                    double[] expected = Reference.attention(queries, offset, k, v, length, dim, blockSize, null, first + i);
                    double err = Reference.relativeError(out, offset, expected);
                    assertTrue(err < 1e-5, "token " + i + " head " + j + ": relative error " + err);
                }
            }
        }
    }
}
