package ai.aether.eval;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.AetherKvPool;
import ai.aether.attention.AttentionStats;
import ai.aether.attention.SelectionMode;
import ai.aether.attention.SequenceKvCache;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.AetherKvCache;
import ai.aether.model.SharedModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The certified mode's promise on REAL keys and queries: SmolLM2 reads ~1,500 tokens of
 * Shakespeare, then for every layer the decode step's real query selects with CERTIFIED at several
 * epsilons, and the true softmax mass of the dropped blocks, computed here in float64 from the
 * stored keys, never exceeds the reported bound, which never exceeds epsilon. Needs
 * ../shared/models and ../shared/data (skips without them); ~10 s.
 */
class CertifiedBoundRealKvTest {

    @Test
    void droppedMassNeverExceedsTheReportedBoundOnRealKv() throws Exception {
        Path model = SharedModels.require(SharedModels.SMOLLM2_Q4_1);
        Path text = Path.of("..", "shared", "data", "tinyshakespeare.txt");
        assumeTrue(Files.isRegularFile(text), "skipped: " + text + " is absent");
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            int[] prompt = llm.tokenizer().encode(Files.readString(text).substring(20_000, 27_000), false, false);
            AetherConfig base = AetherConfig.defaults();
            int layers = llm.model().config().layers(), kvHeads = llm.model().config().kvHeads(), dim = llm.model().config().headDim();
            int heads = llm.model().config().heads(), group = heads / kvHeads;
            long droppedBlocks = 0, checkedBlocks = 0;
            try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, prompt, 2, base)) {
                AetherKvCache cache = p.cache();
                cache.setConfig(null);
                llm.model().decode(p.firstToken(), p.promptLength(), cache);  // one dense step records every layer's real query
                int tokens = p.promptLength() + 1;
                for (int layer = 0; layer < layers; layer++) {
                    float[][] kv = cache.readLayer(layer, tokens);  // [kvHeads][tokens][dim] each
                    float[] queries = cache.lastDecodeQueries(layer);
                    for (double epsilon : new double[] {0.01, 0.1, 0.3}) {
                        AetherConfig certified = base.toBuilder().selection(SelectionMode.CERTIFIED).epsilon(epsilon).kvDtype(KvDtype.FP32).build();
                        AetherKvPool pool = AetherKvPool.forConfig(certified, dim, 0);
                        SequenceKvCache sequence = pool.newSequence(1, kvHeads);
                        sequence.append(0, tokenMajor(kv[0], kvHeads, tokens, dim), tokenMajor(kv[1], kvHeads, tokens, dim), tokens);
                        AetherAttention attention = new AetherAttention(certified, heads, kvHeads, dim);
                        AttentionStats stats = new AttentionStats();
                        attention.decode(0, sequence, queries, new float[queries.length], stats);
                        DecodePlan plan = attention.lastPlan();
                        double bound = stats.certifiedDroppedMass();
                        assertTrue(bound <= epsilon + 1e-12, "layer " + layer + ": reported bound " + bound + " above epsilon " + epsilon);
                        for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                            boolean[] kept = new boolean[tokens];
                            for (int i = 0; i < plan.keptCount(0, kvHead); i++) {
                                int start = plan.keptLogicalBlock(0, kvHead, i) * certified.blockSize();
                                for (int t = start; t < Math.min(tokens, start + certified.blockSize()); t++) kept[t] = true;
                            }
                            int blocks = (tokens + certified.blockSize() - 1) / certified.blockSize();
                            droppedBlocks += blocks - plan.keptCount(0, kvHead);
                            for (int h = kvHead * group; h < (kvHead + 1) * group; h++) {
                                double dropped = droppedMass(queries, h * dim, kv[0], kvHead, tokens, dim, kept);
                                assertTrue(dropped <= bound + 1e-9, "layer " + layer + " head " + h + " epsilon " + epsilon
                                        + ": true dropped mass " + dropped + " above the reported bound " + bound);
                            }
                        }
                        if (epsilon == 0.01) checkedBlocks += checkBlockBounds(certified, pool, sequence, tokens, queries, kv[0], kvHeads, group, dim, layer);
                        sequence.release();
                    }
                }
            }
            // On SmolLM2 at block 64 the certified box bound sits 10-15 logits above the true block max
            // (docs/quality.md), so certified selection keeps nearly everything; the per-block bound
            // check below is what keeps this test from being vacuous.
            assertTrue(checkedBlocks > 0, "no block bound was checked");
        }
    }

    /**
     * Every block's certified score (QUANTIZED_BOUND, the default score's certified counterpart)
     * must be at least the block's true largest scaled logit for every query head of the group.
     * Returns the blocks checked.
     */
    static long checkBlockBounds(AetherConfig certified, AetherKvPool pool, SequenceKvCache sequence, int tokens, float[] queries,
                                 float[] keys, int kvHeads, int group, int dim, int layer) {
        long checked = 0;
        int count = sequence.blockCount(0), blockSize = certified.blockSize();
        for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
            ai.aether.attention.BlockSelector selector = new ai.aether.attention.BlockSelector(certified);
            float[] bounds = new float[group * count];
            selector.select(pool, sequence.blockIdsView(0, kvHead), count, tokens, queries, kvHead * group * dim, group, false,
                    new boolean[count], bounds);
            for (int b = 0; b < count; b++) {
                for (int r = 0; r < group; r++) {
                    float bound = bounds[r * count + b];
                    if (bound == Float.POSITIVE_INFINITY) continue;  // open block: always read, never bounded
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = b * blockSize; t < Math.min(tokens, (b + 1) * blockSize); t++) {
                        double s = 0;
                        for (int d = 0; d < dim; d++) s += (double) queries[(kvHead * group + r) * dim + d] * keys[(kvHead * tokens + t) * dim + d];
                        max = Math.max(max, s / Math.sqrt(dim));
                    }
                    assertTrue(bound >= max - 1e-4, "layer " + layer + " KV head " + kvHead + " block " + b + " row " + r
                            + ": certified bound " + bound + " below the true max logit " + max);
                    checked++;
                }
            }
        }
        return checked;
    }

    /** float64 softmax mass of the positions not kept, for one query head. */
    static double droppedMass(float[] queries, int qOffset, float[] keys, int kvHead, int tokens, int dim, boolean[] kept) {
        double[] logits = new double[tokens];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < tokens; t++) {
            double s = 0;
            for (int d = 0; d < dim; d++) s += (double) queries[qOffset + d] * keys[(kvHead * tokens + t) * dim + d];
            logits[t] = s / Math.sqrt(dim);
            max = Math.max(max, logits[t]);
        }
        double total = 0, dropped = 0;
        for (int t = 0; t < tokens; t++) {
            double w = Math.exp(logits[t] - max);
            total += w;
            if (!kept[t]) dropped += w;
        }
        return dropped / total;
    }

    /** [kvHeads][tokens][dim] to [tokens][kvHeads][dim], the cache's append layout. */
    static float[] tokenMajor(float[] headMajor, int kvHeads, int tokens, int dim) {
        float[] out = new float[headMajor.length];
        for (int h = 0; h < kvHeads; h++) {
            for (int t = 0; t < tokens; t++) System.arraycopy(headMajor, (h * tokens + t) * dim, out, (t * kvHeads + h) * dim, dim);
        }
        return out;
    }
}
