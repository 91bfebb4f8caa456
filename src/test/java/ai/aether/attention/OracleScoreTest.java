package ai.aether.attention;

import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ORACLE score ranks by true block mass, so at the same block budget no estimator keeps more
 * of a GQA group's attention mass (summed over its query rows, float64 from the stored keys).
 */
class OracleScoreTest {

    private static final int QUERY_HEADS = 6, KV_HEADS = 2, DIM = 32, BLOCK = 32;

    @Test
    void oracleKeepsAtLeastTheMassOfEveryEstimator() {
        for (int seed = 0; seed < 6; seed++) {
            Random r = new Random(seed);
            int tokens = 40 * BLOCK + 11;
            float[] keys = new float[tokens * KV_HEADS * DIM], values = new float[keys.length];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = (float) (r.nextGaussian() * (i % DIM < 4 ? 3 : 1));
                values[i] = (float) r.nextGaussian();
            }
            float[] queries = new float[QUERY_HEADS * DIM];
            for (int i = 0; i < queries.length; i++) queries[i] = (float) r.nextGaussian();
            for (int spike = 0; spike < 3; spike++) {  // a few keys aligned with a query: peaked heads
                int t = r.nextInt(tokens - BLOCK), h = r.nextInt(QUERY_HEADS);
                for (int d = 0; d < DIM; d++) keys[(t * KV_HEADS + h / 3) * DIM + d] = queries[h * DIM + d] * 2;
            }
            AetherKvPool pool = new AetherKvPool(DIM, BLOCK, KvDtype.FP32, 0);
            SequenceKvCache cache = pool.newSequence(1, KV_HEADS);
            cache.append(0, keys, values, tokens);
            double oracle = keptMass(cache, RadarScore.ORACLE, queries, keys, tokens);
            for (RadarScore score : RadarScore.values()) {
                if (score == RadarScore.ORACLE) continue;
                double other = keptMass(cache, score, queries, keys, tokens);
                assertTrue(oracle >= other - 1e-9, "seed " + seed + ": ORACLE kept " + oracle + ", " + score + " kept " + other);
            }
        }
    }

    /** Attention mass (summed over every query head) inside the blocks a TARGET_SPARSITY 0.8 selection keeps. */
    private static double keptMass(SequenceKvCache cache, RadarScore score, float[] queries, float[] keys, int tokens) {
        AetherConfig config = AetherConfig.builder().blockSize(BLOCK).radarScore(score).groupCombine(GroupCombine.SOFTMAX_SUM)
                .targetSparsity(0.8).minSeqLength(0).build();
        DecodePlan plan = new AetherAttention(config, QUERY_HEADS, KV_HEADS, DIM).select(0, new SequenceKvCache[] {cache}, queries, null);
        int blocks = cache.blockCount(0), group = QUERY_HEADS / KV_HEADS;
        double total = 0;
        for (int h = 0; h < QUERY_HEADS; h++) {
            int kv = h / group;
            boolean[] kept = new boolean[blocks];
            for (int i = 0; i < plan.keptCount(0, kv); i++) kept[plan.keptLogicalBlock(0, kv, i)] = true;
            double[] logits = new double[tokens];
            double max = Double.NEGATIVE_INFINITY, z = 0, in = 0;
            for (int t = 0; t < tokens; t++) {
                double dot = 0;
                for (int d = 0; d < DIM; d++) dot += (double) queries[h * DIM + d] * keys[(t * KV_HEADS + kv) * DIM + d];
                logits[t] = dot / Math.sqrt(DIM);
                max = Math.max(max, logits[t]);
            }
            for (int t = 0; t < tokens; t++) {
                double e = Math.exp(logits[t] - max);
                z += e;
                if (kept[t / BLOCK]) in += e;
            }
            total += in / z;
        }
        return total;
    }
}
