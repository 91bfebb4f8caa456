package ai.aether.attention;

import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reranking reads the keys of the radar's best candidates and keeps those of largest exact mass.
 * Checked against independent float64 block masses computed here from the keys as written.
 */
class RerankTest {

    private static final int QUERY_HEADS = 6, KV_HEADS = 2, DIM = 32, BLOCK = 32, TOKENS = 40 * BLOCK + 11;

    @Test
    void aShortlistOfEveryCandidateKeepsTheTrueHeaviestBlocks() {
        for (int seed = 0; seed < 5; seed++) {
            Fixture f = new Fixture(seed);
            AetherConfig rerankAll = config(RadarScore.QUANTIZED_BOX).rerankFactor(16).build();
            for (int kv = 0; kv < KV_HEADS; kv++) {
                Set<Integer> kept = f.kept(rerankAll, 0, kv);
                Set<Integer> expected = f.heaviest(kv, kept.size(), forcedBlocks(f));
                assertEquals(expected, kept, "seed " + seed + ", KV head " + kv);
            }
        }
    }

    @Test
    void rerankKeepsTheBudgetAndOnlyShortlistedBlocks() {
        for (int seed = 0; seed < 5; seed++) {
            Fixture f = new Fixture(seed);
            AetherConfig radarOnly = config(RadarScore.QUANTIZED_BOX).build();
            AetherConfig wide = config(RadarScore.QUANTIZED_BOX).rerankFactor(2).build();
            AetherConfig wider = config(RadarScore.QUANTIZED_BOX).rerankFactor(3).build();
            for (int kv = 0; kv < KV_HEADS; kv++) {
                Set<Integer> radar = f.kept(radarOnly, 0, kv), reranked = f.kept(wide, 0, kv);
                assertEquals(radar.size(), reranked.size(), "the block budget does not change");
                // The shortlist at factor 2 is the radar's selection at twice its free budget: everything kept comes from it.
                Set<Integer> free = new TreeSet<>(radar);
                free.removeAll(forcedBlocks(f));
                int k = free.size();
                Set<Integer> shortlist = f.kept(config(RadarScore.QUANTIZED_BOX).selection(SelectionMode.TOP_K).topK(2 * k).build(), 0, kv);
                assertTrue(shortlist.containsAll(reranked), "seed " + seed + ": kept " + reranked + " outside the shortlist " + shortlist);
                // Within its shortlist the rerank keeps the blocks of largest summed share (each row's share of the
                // shortlist's mass), so it holds at least what the radar's own choice holds by that measure.
                Set<Integer> free2 = new TreeSet<>(shortlist);
                free2.removeAll(forcedBlocks(f));
                double reached = f.shortlistShare(kv, reranked, free2), radarShare = f.shortlistShare(kv, radar, free2);
                assertTrue(reached >= radarShare - 1e-6, "seed " + seed + ": reranked " + reached + " < radar " + radarShare);
                assertTrue(f.mass(kv, f.kept(wider, 0, kv)) >= 0, "runs at factor 3");
            }
        }
    }

    @Test
    void rerankAppliesOnlyInItsLayers() {
        Fixture f = new Fixture(3);
        AetherConfig radarOnly = config(RadarScore.QUANTIZED_BOX).build();
        AetherConfig inLayer5 = config(RadarScore.QUANTIZED_BOX).rerankFactor(16).rerankLayers(Set.of(5)).build();
        assertTrue(inLayer5.reranks(5));
        assertTrue(!inLayer5.reranks(0));
        assertEquals(f.kept(radarOnly, 0, 0), f.kept(inLayer5, 0, 0), "layer 0 is not a rerank layer");
        assertNotEquals(f.kept(radarOnly, 0, 0), f.kept(config(RadarScore.QUANTIZED_BOX).rerankFactor(16).build(), 0, 0),
                "this fixture's radar choice differs from the true heaviest blocks");
    }

    @Test
    void theMostSensitiveShareOfLayersReranks() {
        double[] sensitivity = {0.01, 0.3, 0.02, 0.25, 0.0, 0.1, 0.05, 0.2, 0.03, 0.04};
        AetherConfig fifth = AetherConfig.builder().rerankFactor(2).rerankShare(0.2).build();
        boolean[] chosen = fifth.rerankLayersFor(sensitivity);
        for (int layer = 0; layer < sensitivity.length; layer++) assertEquals(layer == 1 || layer == 3, chosen[layer], "layer " + layer);
        boolean[] third = AetherConfig.builder().rerankFactor(2).rerankShare(0.3).build().rerankLayersFor(sensitivity);
        assertTrue(third[1] && third[3] && third[7] && !third[5]);
        boolean[] explicit = AetherConfig.builder().rerankFactor(2).rerankLayers(Set.of(0, 4)).build().rerankLayersFor(sensitivity);
        assertTrue(explicit[0] && explicit[4] && !explicit[1]);
        boolean[] off = AetherConfig.builder().rerankFactor(1).rerankShare(1).build().rerankLayersFor(sensitivity);
        for (boolean b : off) assertTrue(!b);
        // Without sensitivities a share below 1 chooses nothing; share 1 is every layer.
        assertTrue(!fifth.reranks(1));
        assertTrue(AetherConfig.builder().rerankFactor(2).rerankShare(1).build().reranks(7));
    }

    @Test
    void aSequencesChosenLayersDecideWhereItReranks() {
        Fixture f = new Fixture(3);
        AetherConfig byShare = config(RadarScore.QUANTIZED_BOX).rerankFactor(16).rerankShare(0.2).build();
        Set<Integer> radar = f.kept(config(RadarScore.QUANTIZED_BOX).build(), 0, 0);
        assertEquals(radar, f.kept(byShare, 0, 0), "no sensitivities yet: no layer chosen");
        f.cache.setRerankLayers(new boolean[] {true});
        assertTrue(f.cache.reranks(byShare, 0));
        assertEquals(f.kept(config(RadarScore.QUANTIZED_BOX).rerankFactor(16).build(), 0, 0), f.kept(byShare, 0, 0));
        f.cache.setRerankLayers(new boolean[] {false});
        assertEquals(radar, f.kept(byShare, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> f.cache.setRerankLayers(new boolean[3]));
    }

    @Test
    void theRerankTimeIsReportedAsPartOfTheSelectionTime() {
        Fixture f = new Fixture(4);
        float[] out = new float[QUERY_HEADS * DIM];
        AttentionStats reranked = new AttentionStats(), plain = new AttentionStats();
        new AetherAttention(config(RadarScore.QUANTIZED_BOX).rerankFactor(2).build(), QUERY_HEADS, KV_HEADS, DIM).decode(0, f.cache, f.queries, out, reranked);
        new AetherAttention(config(RadarScore.QUANTIZED_BOX).build(), QUERY_HEADS, KV_HEADS, DIM).decode(0, f.cache, f.queries, out, plain);
        assertTrue(reranked.rerankBytesRead() > 0);
        assertTrue(reranked.rerankNanos() > 0 && reranked.rerankNanos() <= reranked.selectionNanos(),
                reranked.rerankNanos() + " of " + reranked.selectionNanos());
        assertEquals(0, plain.rerankNanos(), "no rerank, no rerank time");
        assertTrue(plain.selectionNanos() > 0);
    }

    @Test
    void theKeysARerankReadsAreCountedInTheBytesRead() {
        Fixture f = new Fixture(1);
        AetherConfig wide = config(RadarScore.QUANTIZED_BOX).rerankFactor(2).build();
        AttentionStats stats = new AttentionStats();
        DecodePlan plan = new AetherAttention(wide, QUERY_HEADS, KV_HEADS, DIM).select(0, new SequenceKvCache[] {f.cache}, f.queries, stats);
        int forced = forcedBlocks(f).size(), candidates = f.cache.blockCount(0) - forced;
        long expected = 0;
        for (int kv = 0; kv < KV_HEADS; kv++) {
            int k = plan.keptCount(0, kv) - forced;
            expected += (long) Math.min(candidates, 2 * k) * BLOCK * DIM * Float.BYTES;  // keys only, fp32 pool
        }
        assertTrue(expected > 0);
        assertEquals(expected, stats.rerankBytesRead());
        AttentionStats plain = new AttentionStats();
        new AetherAttention(config(RadarScore.QUANTIZED_BOX).build(), QUERY_HEADS, KV_HEADS, DIM).select(0, new SequenceKvCache[] {f.cache}, f.queries, plain);
        assertEquals(0, plain.rerankBytesRead());
        // The same number of blocks is attended, but the reranked ones come with their logits: their keys are not read twice.
        long handedOver = 0;
        for (int kv = 0; kv < KV_HEADS; kv++) {
            for (int i = 0; i < plan.keptCount(0, kv); i++) {
                boolean fromShortlist = !forcedBlocks(f).contains(plan.keptLogicalBlock(0, kv, i));
                assertEquals(fromShortlist, plan.hasLogits(0, kv, i), "KV head " + kv + ", kept block " + plan.keptLogicalBlock(0, kv, i));
                if (fromShortlist) handedOver += (long) BLOCK * DIM * Float.BYTES;
            }
        }
        assertTrue(handedOver > 0);
        assertEquals(plain.kvBytesRead() - handedOver, stats.kvBytesRead());
        assertTrue(stats.bytesReadShare() > plain.bytesReadShare());
    }

    /** The same, for blocks shorter than their padded key rows (24 on 16 lanes) and for each storage type. */
    @ParameterizedTest
    @CsvSource({"24,FP16", "32,BF16", "64,FP32", "48,FP16", "64,INT8", "24,INT8"})
    void handedOverLogitsGiveTheSameOutputForEveryBlockShapeAndDtype(int blockSize, KvDtype dtype) {
        Random r = new Random(blockSize);
        int tokens = 30 * blockSize + 5;
        float[] keys = new float[tokens * KV_HEADS * DIM], values = new float[keys.length], queries = new float[QUERY_HEADS * DIM];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) (r.nextGaussian() * (i % DIM < 4 ? 3 : 1));
            values[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < queries.length; i++) queries[i] = (float) r.nextGaussian();
        AetherKvPool pool = new AetherKvPool(DIM, blockSize, dtype, 0);
        SequenceKvCache cache = pool.newSequence(1, KV_HEADS);
        cache.append(0, keys, values, tokens);
        AetherConfig config = AetherConfig.builder().blockSize(blockSize).kvDtype(dtype).radarScore(RadarScore.QUANTIZED_BOX)
                .targetSparsity(0.8).minSeqLength(0).minKeptTokens(0).rerankFactor(2).rerankShare(1).build();
        assertSameBitsWithoutLogits(new AetherAttention(config, QUERY_HEADS, KV_HEADS, DIM), cache, queries, "block " + blockSize + ", " + dtype);
    }

    @Test
    void handedOverLogitsGiveTheSameOutputAsReadingTheKeys() {
        Fixture f = new Fixture(2);
        assertSameBitsWithoutLogits(new AetherAttention(config(RadarScore.QUANTIZED_BOX).rerankFactor(2).build(), QUERY_HEADS, KV_HEADS, DIM),
                f.cache, f.queries, "the same logits, so the same bits");
    }

    /**
     * Decodes with {@code attention} (whose rerank hands logits over), then runs the same kept blocks
     * through the backend in a plan without logits (keys read again): the outputs must be equal bit for bit.
     */
    private static void assertSameBitsWithoutLogits(AetherAttention attention, SequenceKvCache cache, float[] queries, String what) {
        float[] out = new float[QUERY_HEADS * DIM];
        attention.decode(0, cache, queries, out, null);
        DecodePlan used = attention.lastPlan(), fresh = new DecodePlan(1, QUERY_HEADS, KV_HEADS, DIM, false);
        fresh.setSequenceLength(0, cache.length(0));
        int handedOver = 0;
        for (int kv = 0; kv < KV_HEADS; kv++) {
            for (int i = 0; i < used.keptCount(0, kv); i++) {
                fresh.addBlock(0, kv, used.keptBlockId(0, kv, i), used.keptLogicalBlock(0, kv, i));
                if (used.hasLogits(0, kv, i)) handedOver++;
            }
        }
        assertTrue(handedOver > 0, "the rerank handed some logits over (" + what + ")");
        float[] recomputed = new float[out.length];
        attention.backend().plan(fresh, cache.pool().blocks());
        attention.backend().decode(cache.pool().blocks(), fresh, queries, recomputed);
        assertArrayEquals(recomputed, out, what);
    }

    @Test
    void coarseValuesKeepTheOrderAndMergeNearTies() {
        Random r = new Random(9);
        for (int i = 0; i < 10_000; i++) {
            float a = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(6) - 3)), b = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(6) - 3));
            if (a < b) assertTrue(BlockSelector.coarse(a) <= BlockSelector.coarse(b), a + " < " + b);
            double x = a, y = b;
            if (x < y) assertTrue(BlockSelector.coarse8(x) <= BlockSelector.coarse8(y), x + " < " + y);
            assertTrue(Math.abs(BlockSelector.coarse(a) - a) <= Math.abs(a) * 0x1p-11, "12 significant bits kept: " + a);
            assertTrue(Math.abs(BlockSelector.coarse8(x) - x) <= Math.abs(x) * 0x1p-7, "8 significant bits kept: " + x);
        }
        // Values a few ulps apart (rounding noise) fall together unless they straddle a boundary.
        float v = 0.3f;
        assertEquals(BlockSelector.coarse(v), BlockSelector.coarse(Math.nextUp(Math.nextUp(v))));
        assertEquals(Float.POSITIVE_INFINITY, BlockSelector.coarse(Float.POSITIVE_INFINITY));
        assertEquals(Double.NEGATIVE_INFINITY, BlockSelector.coarse8(Double.NEGATIVE_INFINITY));
    }

    @Test
    void invalidRerankSettingsNameTheField() {
        IllegalArgumentException low = assertThrows(IllegalArgumentException.class, () -> AetherConfig.builder().rerankFactor(0.5).build());
        assertTrue(low.getMessage().contains("rerankFactor must be in [1, 16]"), low.getMessage());
        IllegalArgumentException share = assertThrows(IllegalArgumentException.class, () -> AetherConfig.builder().rerankShare(1.5).build());
        assertTrue(share.getMessage().contains("rerankShare must be in [0, 1]"), share.getMessage());
        IllegalArgumentException layer = assertThrows(IllegalArgumentException.class,
                () -> AetherConfig.builder().rerankLayers(Set.of(-1)).build());
        assertTrue(layer.getMessage().contains("rerankLayers"), layer.getMessage());
    }

    private static AetherConfig.Builder config(RadarScore score) {
        return AetherConfig.builder().blockSize(BLOCK).radarScore(score).groupCombine(GroupCombine.SOFTMAX_SUM)
                .targetSparsity(0.8).minSeqLength(0).minKeptTokens(0).rerankFactor(1).rerankShare(1);  // radar only unless a test asks for a rerank
    }

    /** Sink, the (narrowed) local window and the open block: what every selection keeps. */
    private static Set<Integer> forcedBlocks(Fixture f) {
        AetherConfig c = config(RadarScore.QUANTIZED_BOX).build();
        int blocks = f.cache.blockCount(0);
        int window = new BlockSelector(c).localWindow(new BlockSelector(c).budget(blocks, 1.0));
        Set<Integer> forced = new TreeSet<>();
        forced.add(0);
        for (int i = blocks - Math.max(window, 1); i < blocks; i++) forced.add(i);
        return forced;
    }

    /** Random keys with a few spikes aligned with a query (peaked heads), as real retrieval heads have. */
    private static final class Fixture {
        final float[] keys = new float[TOKENS * KV_HEADS * DIM], values = new float[keys.length], queries = new float[QUERY_HEADS * DIM];
        final SequenceKvCache cache;

        Fixture(int seed) {
            Random r = new Random(seed);
            for (int i = 0; i < keys.length; i++) {
                keys[i] = (float) (r.nextGaussian() * (i % DIM < 4 ? 3 : 1));
                values[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < queries.length; i++) queries[i] = (float) r.nextGaussian();
            for (int spike = 0; spike < 6; spike++) {
                int t = r.nextInt(TOKENS - BLOCK), h = r.nextInt(QUERY_HEADS);
                for (int d = 0; d < DIM; d++) keys[(t * KV_HEADS + h / 3) * DIM + d] = queries[h * DIM + d] * 1.5f;
            }
            AetherKvPool pool = new AetherKvPool(DIM, BLOCK, KvDtype.FP32, 0);
            cache = pool.newSequence(1, KV_HEADS);
            cache.append(0, keys, values, TOKENS);
        }

        Set<Integer> kept(AetherConfig config, int layer, int kv) {
            DecodePlan plan = new AetherAttention(config, QUERY_HEADS, KV_HEADS, DIM).select(layer, new SequenceKvCache[] {cache}, queries, null);
            Set<Integer> kept = new TreeSet<>();
            for (int i = 0; i < plan.keptCount(0, kv); i++) kept.add(plan.keptLogicalBlock(0, kv, i));
            return kept;
        }

        /** Per query row of KV head kv and block: the block's share of that row's attention, float64. */
        double[][] shares(int kv) {
            int group = QUERY_HEADS / KV_HEADS, blocks = (TOKENS + BLOCK - 1) / BLOCK;
            double[][] share = new double[group][blocks];
            for (int g = 0; g < group; g++) {
                int h = kv * group + g;
                double[] logits = new double[TOKENS];
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int t = 0; t < TOKENS; t++) {
                    double dot = 0;
                    for (int d = 0; d < DIM; d++) dot += (double) queries[h * DIM + d] * keys[(t * KV_HEADS + kv) * DIM + d];
                    logits[t] = dot / Math.sqrt(DIM);
                    max = Math.max(max, logits[t]);
                }
                for (int t = 0; t < TOKENS; t++) z += Math.exp(logits[t] - max);
                for (int t = 0; t < TOKENS; t++) share[g][t / BLOCK] += Math.exp(logits[t] - max) / z;
            }
            return share;
        }

        /** The group's attention mass (summed over its rows) in {@code blocks}. */
        double mass(int kv, Set<Integer> blocks) {
            double total = 0;
            for (double[] row : shares(kv)) for (int b : blocks) total += row[b];
            return total;
        }

        /** Summed over the rows: the share of the row's mass within {@code shortlist} that {@code blocks} (its members) hold. */
        double shortlistShare(int kv, Set<Integer> blocks, Set<Integer> shortlist) {
            double total = 0;
            for (double[] row : shares(kv)) {
                double in = 0, all = 0;
                for (int b : shortlist) all += row[b];
                for (int b : blocks) if (shortlist.contains(b)) in += row[b];
                total += in / all;
            }
            return total;
        }

        /**
         * The forced blocks plus the {@code size - forced} other blocks of largest summed share, each row's
         * shares renormalised over the non-forced blocks (what softmax-sum over exact block masses ranks by).
         */
        Set<Integer> heaviest(int kv, int size, Set<Integer> forced) {
            double[][] share = shares(kv);
            int blocks = share[0].length;
            double[] combined = new double[blocks];
            for (double[] row : share) {
                double free = 0;
                for (int b = 0; b < blocks; b++) if (!forced.contains(b)) free += row[b];
                for (int b = 0; b < blocks; b++) if (!forced.contains(b)) combined[b] += row[b] / free;
            }
            Set<Integer> out = new TreeSet<>(forced);
            java.util.List<Integer> order = new java.util.ArrayList<>();
            for (int b = 0; b < blocks; b++) if (!forced.contains(b)) order.add(b);
            order.sort((a, b) -> Double.compare(combined[b], combined[a]));
            for (int i = 0; out.size() < size; i++) out.add(order.get(i));
            return out;
        }
    }
}
