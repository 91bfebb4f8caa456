package ai.aether.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Metrics against float64 maths written out token by token in the test (not through
 * HeadReference's per-block shortcuts).
 */
class QualityMetricsTest {

    // One KV head, one query head, 6 tokens, D = 2, blocks of 2 tokens.
    private static final float[] KEYS = {1, 0, 0, 1, 2, 1, -1, 0, 0.5f, 0.5f, 0, -2};     // [6][2]
    private static final float[] VALUES = {1, 2, -1, 0, 3, 1, 0, -2, 2, 2, -1, 1};        // [6][2]
    private static final float[] QUERY = {1.5f, -0.5f};                                    // [2]

    private static KvSnapshot snapshot() {
        return new KvSnapshot("tiny", 1, 1, 6, 2, KEYS, VALUES, QUERY);
    }

    /** Dense softmax weights, plainly. */
    private static double[] denseWeights() {
        double[] p = new double[6];
        double sum = 0;
        for (int t = 0; t < 6; t++) {
            p[t] = Math.exp((QUERY[0] * KEYS[2 * t] + QUERY[1] * KEYS[2 * t + 1]) / Math.sqrt(2));
            sum += p[t];
        }
        for (int t = 0; t < 6; t++) p[t] /= sum;
        return p;
    }

    /** Softmax over the kept tokens only, computed from the logits again (not by renormalising). */
    private static double[] sparseWeights(boolean[] keptTokens) {
        double[] p = new double[6];
        double sum = 0;
        for (int t = 0; t < 6; t++) {
            if (!keptTokens[t]) continue;
            p[t] = Math.exp((QUERY[0] * KEYS[2 * t] + QUERY[1] * KEYS[2 * t + 1]) / Math.sqrt(2));
            sum += p[t];
        }
        for (int t = 0; t < 6; t++) p[t] /= sum;
        return p;
    }

    private static double[] output(double[] p) {
        double[] o = new double[2];
        for (int t = 0; t < 6; t++) {
            o[0] += p[t] * VALUES[2 * t];
            o[1] += p[t] * VALUES[2 * t + 1];
        }
        return o;
    }

    private static double entropy(double[] p) {
        double h = 0;
        for (double x : p) if (x > 0) h -= x * Math.log(x);
        return h;
    }

    @Test
    void everyMetricMatchesTokenLevelFloat64() {
        HeadReference ref = HeadReference.compute(snapshot(), 0, 2);
        assertEquals(3, ref.blockCount());
        boolean[] keptBlocks = {true, false, true};
        boolean[] keptTokens = {true, true, false, false, true, true};
        double[] dense = denseWeights(), sparse = sparseWeights(keptTokens);
        double[] od = output(dense), os = output(sparse);

        double cosine = (od[0] * os[0] + od[1] * os[1]) / Math.hypot(od[0], od[1]) / Math.hypot(os[0], os[1]);
        double l2 = Math.hypot(os[0] - od[0], os[1] - od[1]) / Math.hypot(od[0], od[1]);
        double kl = 0;
        for (int t = 0; t < 6; t++) if (sparse[t] > 0) kl += sparse[t] * Math.log(sparse[t] / dense[t]);
        double mass = dense[0] + dense[1] + dense[4] + dense[5];

        QualityMetrics.HeadQuality q = QualityMetrics.evaluate(ref, keptBlocks);
        assertEquals(cosine, q.cosine(), 1e-12);
        assertEquals(l2, q.normalizedL2(), 1e-12);
        assertEquals(kl, q.klDivergence(), 1e-12);
        assertEquals(mass, q.massRecall(), 1e-12);
        assertEquals(entropy(sparse) - entropy(dense), q.entropyChange(), 1e-12);
        assertArrayEquals(os, ref.sparseOutput(keptBlocks), 1e-12);
    }

    @Test
    void keepingEverythingIsExactlyDense() {
        HeadReference ref = HeadReference.compute(snapshot(), 0, 4);  // blocks of 4 and a partial block of 2
        assertEquals(2, ref.blockCount());
        QualityMetrics.HeadQuality q = QualityMetrics.evaluate(ref, new boolean[]{true, true});
        assertEquals(1, q.cosine(), 1e-12);
        assertEquals(0, q.normalizedL2(), 1e-12);
        assertEquals(0, q.klDivergence(), 1e-12);
        assertEquals(1, q.massRecall(), 1e-12);
        assertEquals(0, q.entropyChange(), 1e-12);
        double[] dense = denseWeights();
        assertEquals(dense[4] + dense[5], ref.blockMass(1), 1e-12, "partial last block");
    }

    @Test
    void blockPrecisionAndRecallWithGqa() {
        // 2 query heads share one KV head; 4 blocks of one token each; masses set through the logits.
        float[] keys = {1, 0, 0, 1, -1, 0, 0, -1};            // [4][2]
        float[] values = new float[8];
        float[] queries = {8, 0, 0, 8};                        // head 0 favours token 0, head 1 token 1
        KvSnapshot s = new KvSnapshot("gqa", 1, 2, 4, 2, keys, values, queries);
        HeadReference[] refs = {HeadReference.compute(s, 0, 1), HeadReference.compute(s, 1, 1)};
        // head 0's masses rank blocks 0 > {1, 3} > 2; head 1's rank 1 > {0, 2} > 3. k = 1: oracles {0} and {1}.
        boolean[] keep0 = {true, false, false, false};
        assertEquals(1.0, QualityMetrics.blockRecall(refs[0], keep0));
        assertEquals(0.0, QualityMetrics.blockRecall(refs[1], keep0));
        assertEquals(1.0, QualityMetrics.blockPrecision(refs, keep0), "block 0 is in head 0's top-1");
        boolean[] keep2 = {false, false, true, false};
        assertEquals(0.0, QualityMetrics.blockPrecision(refs, keep2));
        // k = 2: head 0's top-2 is {0, 1} (tie 1/3 broken by the lower index), head 1's is {1, 0}
        boolean[] keep02 = {true, false, true, false};
        assertEquals(0.5, QualityMetrics.blockRecall(refs[0], keep02));
        assertEquals(0.5, QualityMetrics.blockPrecision(refs, keep02));
    }

    @Test
    void quantileFollowsNumpysLinearDefinition() {
        double[] x = {10, 1, 4, 3};
        // numpy.quantile([1,3,4,10], q): 0.05 -> 1.3, 0.25 -> 2.5, 0.5 -> 3.5, 0.75 -> 5.5
        assertEquals(1.3, Stats.quantile(x, 0.05), 1e-12);
        assertEquals(2.5, Stats.quantile(x, 0.25), 1e-12);
        assertEquals(3.5, Stats.median(x), 1e-12);
        assertEquals(5.5, Stats.quantile(x, 0.75), 1e-12);
        assertEquals(4.5, Stats.mean(x), 1e-12);
    }
}
