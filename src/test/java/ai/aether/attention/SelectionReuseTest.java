package ai.aether.attention;

import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AetherConfig#reselectInterval}: a layer's kept blocks serve the next steps, plus any block
 * started since; the radar runs again after the interval, after a truncate and after a config change,
 * and at every step in a rerank layer.
 * Outputs on reused steps are checked against float64 attention over the remembered blocks.
 */
class SelectionReuseTest {

    private static final int QUERY_HEADS = 6, KV_HEADS = 2, DIM = 32, BLOCK = 32;

    private static AetherConfig.Builder config() {
        return AetherConfig.builder().blockSize(BLOCK).targetSparsity(0.75).minKeptTokens(0).localWindow(2)
                .layerBudgets(LayerBudgets.UNIFORM).rerankFactor(1).reselectInterval(1);
    }

    /** A one-layer cache of random keys (a few channels larger, so blocks differ) that grows one token per step. */
    private static final class Growing {
        final Random random;
        final List<float[]> keys = new ArrayList<>(), values = new ArrayList<>();  // [tokens][kvHeads * DIM]
        final SequenceKvCache cache = new AetherKvPool(DIM, BLOCK, KvDtype.FP32, 0).newSequence(1, KV_HEADS);

        Growing(int seed, int tokens) {
            random = new Random(seed);
            for (int t = 0; t < tokens; t++) append();
        }

        void append() {
            float[] k = new float[KV_HEADS * DIM], v = new float[KV_HEADS * DIM];
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) (random.nextGaussian() * (i % DIM < 4 ? 3 : 1));
                v[i] = (float) random.nextGaussian();
            }
            keys.add(k);
            values.add(v);
            cache.append(0, k, v, 1);
        }

        float[] queries() {
            float[] q = new float[QUERY_HEADS * DIM];
            for (int i = 0; i < q.length; i++) q[i] = (float) random.nextGaussian();
            return q;
        }

        /** float64 attention of query head h over the tokens of the given blocks. */
        double[] reference(float[] queries, int h, Set<Integer> blocks) {
            int kv = h / (QUERY_HEADS / KV_HEADS), n = keys.size();
            float[] k = new float[n * DIM], v = new float[n * DIM];
            for (int t = 0; t < n; t++) {
                System.arraycopy(keys.get(t), kv * DIM, k, t * DIM, DIM);
                System.arraycopy(values.get(t), kv * DIM, v, t * DIM, DIM);
            }
            boolean[] kept = new boolean[(n + BLOCK - 1) / BLOCK];
            for (int b : blocks) kept[b] = true;
            return Reference.attention(queries, h * DIM, k, v, n, DIM, BLOCK, kept, n - 1);
        }
    }

    private static Set<Integer> kept(DecodePlan plan, int list) {
        Set<Integer> kept = new TreeSet<>();
        for (int i = 0; i < plan.keptCount(0, list); i++) kept.add(plan.keptLogicalBlock(0, list, i));
        return kept;
    }

    @Test
    void theStepsWithinTheIntervalReuseTheSelectionAndTheNextRunsTheRadarAgain() {
        Growing g = new Growing(1, 40 * BLOCK + 11);
        AetherAttention attention = new AetherAttention(config().reselectInterval(3).build(), QUERY_HEADS, KV_HEADS, DIM);
        float[] out = new float[QUERY_HEADS * DIM];
        AttentionStats fresh = new AttentionStats();
        attention.decode(0, g.cache, g.queries(), out, fresh);
        assertTrue(fresh.metadataBytesRead() > 0, "the first step scores blocks");
        List<Set<Integer>> first = List.of(kept(attention.lastPlan(), 0), kept(attention.lastPlan(), 1));
        for (int step = 2; step <= 3; step++) {
            g.append();
            float[] queries = g.queries();
            AttentionStats stats = new AttentionStats();
            attention.decode(0, g.cache, queries, out, stats);
            assertEquals(0, stats.metadataBytesRead(), "step " + step + " reads no metadata");
            assertEquals(KV_HEADS, stats.reusedSelections(), "step " + step + ": both lists reuse");
            for (int list = 0; list < KV_HEADS; list++) assertEquals(first.get(list), kept(attention.lastPlan(), list), "step " + step);
            for (int h = 0; h < QUERY_HEADS; h++) {
                double[] expected = g.reference(queries, h, first.get(h / (QUERY_HEADS / KV_HEADS)));
                assertTrue(Reference.relativeError(out, h * DIM, expected) < 1e-5, "step " + step + ", head " + h);
            }
        }
        g.append();
        float[] queries = g.queries();
        AttentionStats stats = new AttentionStats();
        attention.decode(0, g.cache, queries, out, stats);
        assertTrue(stats.metadataBytesRead() > 0, "the fourth step selects afresh");
        DecodePlan everyStep = new AetherAttention(config().build(), QUERY_HEADS, KV_HEADS, DIM)
                .select(0, new SequenceKvCache[] {g.cache}, queries, null);
        for (int list = 0; list < KV_HEADS; list++) assertEquals(kept(everyStep, list), kept(attention.lastPlan(), list));
    }

    @Test
    void aBlockStartedSinceTheSelectionIsKeptToo() {
        Growing g = new Growing(2, 41 * BLOCK);  // blocks 0-40 full: the next token opens block 41
        AetherAttention attention = new AetherAttention(config().reselectInterval(4).build(), QUERY_HEADS, KV_HEADS, DIM);
        float[] out = new float[QUERY_HEADS * DIM];
        attention.decode(0, g.cache, g.queries(), out, null);
        Set<Integer> before = kept(attention.lastPlan(), 0);
        assertTrue(before.contains(40) && !before.contains(41), "the newest block is kept");
        g.append();
        float[] queries = g.queries();
        attention.decode(0, g.cache, queries, out, null);
        Set<Integer> after = new TreeSet<>(before);
        after.add(41);
        assertEquals(after, kept(attention.lastPlan(), 0));
        assertTrue(Reference.relativeError(out, 0, g.reference(queries, 0, after)) < 1e-5, "the new token is attended");
    }

    @Test
    void aTruncateAPrefillOrANewConfigEndsTheReuse() {
        Growing g = new Growing(3, 40 * BLOCK + 5);
        AetherAttention attention = new AetherAttention(config().reselectInterval(8).build(), QUERY_HEADS, KV_HEADS, DIM);
        float[] out = new float[QUERY_HEADS * DIM];
        attention.decode(0, g.cache, g.queries(), out, null);
        g.cache.truncate(0, g.cache.length(0) - 1);
        g.cache.append(0, g.keys.getLast(), g.values.getLast(), 1);
        AttentionStats afterTruncate = new AttentionStats();
        attention.decode(0, g.cache, g.queries(), out, afterTruncate);
        assertTrue(afterTruncate.metadataBytesRead() > 0, "a truncated cache selects afresh");
        g.append();
        attention.decode(0, g.cache, g.queries(), out, null);
        float[] two = new float[2 * KV_HEADS * DIM];
        for (int i = 0; i < two.length; i++) two[i] = (float) g.random.nextGaussian();
        g.cache.append(0, two, two, 2);  // a prefill of new prompt tokens
        AttentionStats afterPrefill = new AttentionStats();
        attention.decode(0, g.cache, g.queries(), out, afterPrefill);
        assertTrue(afterPrefill.metadataBytesRead() > 0 && afterPrefill.reusedSelections() == 0, "a prefill ends the reuse");
        g.cache.append(0, two, two, 1);
        g.cache.forgetSelections();
        AttentionStats afterForget = new AttentionStats();
        attention.decode(0, g.cache, g.queries(), out, afterForget);
        assertTrue(afterForget.metadataBytesRead() > 0, "a forgotten selection is not reused");
    }

    @Test
    void reusedStepsDecodeLikeTheStepThatChose() {
        // Reuse differs from selecting every step: with new queries each step, the radar's choice moves.
        Growing g = new Growing(4, 40 * BLOCK + 3);
        AetherAttention every = new AetherAttention(config().build(), QUERY_HEADS, KV_HEADS, DIM);
        AetherAttention reusing = new AetherAttention(config().reselectInterval(16).build(), QUERY_HEADS, KV_HEADS, DIM);
        float[] out = new float[QUERY_HEADS * DIM];
        reusing.decode(0, g.cache, g.queries(), out, null);
        Set<Integer> remembered = kept(reusing.lastPlan(), 0);
        boolean moved = false;
        for (int step = 0; step < 8; step++) {
            g.append();
            float[] q = g.queries();
            reusing.decode(0, g.cache, q, out, null);
            assertEquals(remembered, kept(reusing.lastPlan(), 0));
            moved |= !kept(every.select(0, new SequenceKvCache[] {g.cache}, q, null), 0).equals(remembered);
        }
        assertTrue(moved, "the every-step selection changes with the query");
    }

    @Test
    void aRerankLayerSelectsAtEveryStep() {
        Growing g = new Growing(6, 40 * BLOCK + 9);
        AetherConfig config = config().reselectInterval(8).rerankFactor(2).rerankLayers(Set.of(0)).build();
        AetherAttention attention = new AetherAttention(config, QUERY_HEADS, KV_HEADS, DIM);
        float[] out = new float[QUERY_HEADS * DIM];
        attention.decode(0, g.cache, g.queries(), out, null);
        g.append();
        AttentionStats stats = new AttentionStats();
        attention.decode(0, g.cache, g.queries(), out, stats);
        assertEquals(0, stats.reusedSelections(), "layer 0 reranks: no reuse");
        assertTrue(stats.metadataBytesRead() > 0 && stats.rerankBytesRead() > 0);
    }

    @Test
    void theIntervalIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> config().reselectInterval(0).build());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> config().reselectInterval(65).build());
        assertTrue(tooLong.getMessage().contains("reselectInterval") && tooLong.getMessage().contains("[1, 64]"), tooLong.getMessage());
        assertEquals(8, AetherConfig.defaults().reselectInterval());
        assertNotEquals(config().reselectInterval(2).build(), config().reselectInterval(1).build());
    }

    @Test
    void certifiedSelectionIsMadeForEveryQuery() {
        Growing g = new Growing(7, 40 * BLOCK + 9);
        AetherAttention attention = new AetherAttention(config().selection(SelectionMode.CERTIFIED).epsilon(0.5).reselectInterval(8).build(),
                QUERY_HEADS, KV_HEADS, DIM);
        float[] out = new float[QUERY_HEADS * DIM];
        attention.decode(0, g.cache, g.queries(), out, null);
        g.append();
        AttentionStats stats = new AttentionStats();
        attention.decode(0, g.cache, g.queries(), out, stats);
        assertEquals(0, stats.reusedSelections());
        assertTrue(!Double.isNaN(stats.certifiedDroppedMass()), "a bound for this step's query");
    }
}
