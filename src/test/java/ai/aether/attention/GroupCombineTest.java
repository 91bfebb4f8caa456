package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SOFTMAX_SUM group combining against a plain float64 computation, alone and inside selection. */
class GroupCombineTest {

    /** Float64 reference: per row a softmax over its finite scores, summed over rows; +infinity where any row is not finite. */
    private static double[] softmaxSum(float[] scores, int rows, int count) {
        double[] out = new double[count];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 0; i < count; i++) if (Float.isFinite(scores[r * count + i])) max = Math.max(max, scores[r * count + i]);
            if (max == Double.NEGATIVE_INFINITY) continue;
            for (int i = 0; i < count; i++) if (Float.isFinite(scores[r * count + i])) z += Math.exp(scores[r * count + i] - max);
            for (int i = 0; i < count; i++) if (Float.isFinite(scores[r * count + i])) out[i] += Math.exp(scores[r * count + i] - max) / z;
        }
        for (int r = 0; r < rows; r++) for (int i = 0; i < count; i++) if (!Float.isFinite(scores[r * count + i])) out[i] = Double.POSITIVE_INFINITY;
        return out;
    }

    record Scores(int rows, int count, float[] values) {}

    @Provide
    Arbitrary<Scores> scores() {
        return Combinators.combine(Arbitraries.integers().between(1, 8), Arbitraries.integers().between(1, 300),
                        Arbitraries.doubles().between(0.01, 300), Arbitraries.integers().between(0, 3), Arbitraries.longs())
                .as((rows, count, spread, special, seed) -> {
                    Random r = new Random(seed);
                    float[] v = new float[rows * count];  // [rows][count]
                    for (int i = 0; i < v.length; i++) v[i] = (float) ((r.nextDouble() - 0.5) * spread + (i / count) * 40 - 100);
                    if (special >= 1) v[r.nextInt(v.length)] = Float.POSITIVE_INFINITY;           // unscored block
                    if (special >= 2) v[r.nextInt(v.length)] = v[r.nextInt(v.length)];             // a tie
                    if (special >= 3) for (int i = 0; i < count; i++) v[i] = Float.POSITIVE_INFINITY;  // a row with nothing finite
                    return new Scores(rows, count, v);
                });
    }

    @Property(tries = 300)
    void softmaxSumMatchesFloat64(@ForAll("scores") Scores s) {
        float[] out = new float[s.count()], scratch = new float[s.count()];
        BlockSelector.softmaxSum(s.values(), s.rows(), s.count(), out, scratch);
        double[] expected = softmaxSum(s.values(), s.rows(), s.count());
        for (int i = 0; i < s.count(); i++) {
            if (Double.isInfinite(expected[i])) {
                assertEquals(Float.POSITIVE_INFINITY, out[i], "block " + i);
            } else {
                assertEquals(expected[i], out[i], 2e-6 * (1 + expected[i]), "block " + i);
            }
        }
    }

    @Property(tries = 300)
    void kthLargestIsWhatSortingGives(@ForAll("scores") Scores s, @ForAll @IntRange(min = 1, max = 2400) int k) {
        float[] values = new float[s.values().length];
        int n = 0;
        for (float v : s.values()) if (Float.isFinite(v)) values[n++] = (float) Math.rint(v / 8);  // coarse: many ties
        if (n == 0) return;
        int rank = 1 + (k - 1) % n;
        float[] sorted = java.util.Arrays.copyOf(values, n);
        java.util.Arrays.sort(sorted);
        float kth = BlockSelector.kthLargest(values, n, rank);
        assertTrue(kth == sorted[n - rank], "k = " + rank + " of " + n + ": " + kth + " vs " + sorted[n - rank]);  // -0 == 0, as selection compares
    }

    @Test
    void eachRowWeighsTheSameWhateverItsLogitScale() {
        // Row 0: huge logits, nearly all its mass on block 0. Row 1: small logits, its mass spread over blocks 1-3.
        float[] scores = {500, 100, 100, 100, 0.5f, 1.2f, 1.1f, 1.0f};
        float[] out = new float[4];
        BlockSelector.softmaxSum(scores, 2, 4, out, new float[4]);
        float[] max = new float[4];
        BlockSelector.maxOverRows(scores, 2, 4, max);
        assertEquals(500, max[0]);
        assertTrue(max[1] == 100 && max[2] == 100, "max lets row 0 decide: blocks 1-3 tie at its 100");
        assertTrue(out[1] > out[2] && out[2] > out[3], "softmax-sum lets row 1 order blocks 1-3: " + java.util.Arrays.toString(out));
        assertEquals(2.0, out[0] + out[1] + out[2] + out[3], 1e-6, "each row contributes shares summing to 1");
    }

    @Property(tries = 100)
    void sharedRankingSelectionKeepsTheLargestSummedShares(@ForAll @IntRange(min = 2, max = 6) int group,
                                                           @ForAll @IntRange(min = 3, max = 40) int blocks,
                                                           @ForAll @IntRange(min = 0, max = 30) int k, @ForAll RadarScore score,
                                                           @ForAll long seed) {
        int block = 16, dim = 16, length = blocks * block - (int) Math.floorMod(seed, block);
        Random r = new Random(seed);
        float[] keys = Reference.gaussian(r, length * dim, 1.0);         // [1][1][length][dim]
        for (int t = 0; t < length; t++) if (r.nextInt(16) == 0) keys[t * dim + r.nextInt(dim)] *= 20;
        float[] query = Reference.gaussian(r, group * dim, 1.0);          // [1][group][dim]
        for (int j = 0; j < group; j++) for (int d = 0; d < dim; d++) query[j * dim + d] *= (float) Math.pow(4, j - 1);
        AetherConfig config = AetherConfig.builder().blockSize(block).kvDtype(KvDtype.FP16).minSeqLength(0).sinkBlocks(0).localWindow(0)
                .selection(SelectionMode.TOP_K).topK(k).radarScore(score).groupCombine(GroupCombine.SOFTMAX_SUM).build();
        SparseSelection sel = AetherKernels.runAetherSparse(Tensor.of(query, 1, group, dim),
                AetherKernels.precomputeMetadata(Tensor.of(keys, 1, 1, length, dim), block, KvDtype.FP16, false, false), config);
        double[] combined = softmaxSum(sel.scores().data(), group, blocks);
        double minKept = Double.POSITIVE_INFINITY, maxDropped = Double.NEGATIVE_INFINITY;
        int kept = 0;
        for (int i = 0; i < blocks - 1; i++) {  // the newest block is forced
            if (sel.mask().kept(0, 0, i)) {
                minKept = Math.min(minKept, combined[i]);
                kept++;
            } else {
                maxDropped = Math.max(maxDropped, combined[i]);
            }
        }
        assertEquals(Math.min(k, blocks - 1), kept);
        assertTrue(minKept >= maxDropped - 1e-5 * group, "a dropped block outranks a kept one on the summed shares: "
                + minKept + " < " + maxDropped);
    }
}
