package ai.aether.bench;

import ai.aether.attention.AetherConfig;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Invariants of a whole run on a small synthetic batch. */
class BenchRunnerTest {

    private static final int BLOCK = 32, TOKENS = 1000, KV_HEADS = 2, HEADS = 4, DIM = 32, BATCH = 2;

    private static List<ResultRow> run(KvDtype dtype, List<Double> sweep) throws Exception {
        AetherConfig config = AetherConfig.builder().blockSize(BLOCK).kvDtype(dtype).minKeptTokens(0).build();
        BenchOptions options = new BenchOptions(BATCH, List.of(TOKENS), config, true, sweep, 0, 2, 5);
        return new BenchRunner(options, new SyntheticKv(KV_HEADS, HEADS, DIM, 10_000, 5, BATCH), BenchRunner.Progress.NONE).run();
    }

    @Test
    void everyMethodGetsTheSameBudgetAndTheOracleBoundsTheirMassRecall() throws Exception {
        List<ResultRow> rows = run(KvDtype.FP32, List.of(0.5, 0.8));
        // quantized-box+sum (primary), shrunk-box, basic, variance, concentration, causal, certified, quantized-box,
        // quantized-bound, key-sketch, shrunk-box+sum, quest, oracle, sink+window, random
        assertEquals(2 * 15, rows.size());
        int blocks = (TOKENS + BLOCK - 1) / BLOCK;  // 32, the last one partial
        long denseBytes = (long) BATCH * KV_HEADS * TOKENS * DIM * 2 * 4;
        for (double level : List.of(0.5, 0.8)) {
            List<ResultRow> at = rows.stream().filter(r -> r.targetSparsity() == level).toList();
            ResultRow oracle = at.stream().filter(r -> r.method().equals("oracle")).findFirst().orElseThrow();
            int budget = (int) Math.ceil((1 - level) * blocks - 1e-9);
            for (ResultRow r : at) {
                assertEquals(1 - budget / (double) blocks, r.achievedSparsity(), 1e-12, r.method() + " keeps the primary's budget");
                assertTrue(r.massRecallMean() <= oracle.massRecallMean() + 1e-12, r.method() + " beats the oracle");
                assertEquals(denseBytes, r.kvBytesRead() + r.kvBytesSkipped(), r.method());
                assertEquals((r.kvBytesRead() + r.metadataBytesRead()) / (double) denseBytes, r.bytesReadShare(), 1e-12);
                assertTrue(r.kernelError() < 1e-4, r.method() + " kernel vs float64: " + r.kernelError());
                assertTrue(r.klMean() >= -Math.log(r.massRecallMean()) - 1e-12, "KL = -ln(mass) per head, so by Jensen mean KL >= -ln(mean mass)");
                if (r.method().equals("oracle")) {
                    assertTrue(Double.isNaN(r.measuredSpeedup()), "oracle has no honest sparse time");
                    assertEquals(0, r.metadataBytesRead());
                } else {
                    assertTrue(r.denseMs() > 0 && r.sparseMs() > 0 && r.measuredSpeedup() > 0, r.method());
                    assertTrue(r.sparseMsP25() <= r.sparseMs() && r.sparseMs() <= r.sparseMsP75(), r.method());
                }
                if (r.method().equals("quest") || r.method().startsWith("shrunk-box")) {
                    // min/max box: 2 fp32 vectors per full block per KV head
                    assertEquals((long) BATCH * KV_HEADS * (TOKENS / BLOCK) * 2 * DIM * 4, r.metadataBytesRead(), r.method());
                }
                if (r.method().startsWith("quantized-")) {
                    // 8-bit box: 2 x DIM codes + fp16 offset and step per full block per KV head
                    assertEquals((long) BATCH * KV_HEADS * (TOKENS / BLOCK) * (2 * DIM + 4), r.metadataBytesRead(), r.method());
                }
            }
        }
    }

    @Test
    void theMethodsCompareThePrimaryWithBothBoxDefaultsQuestAndTheOracle() {
        BenchOptions defaults = new BenchOptions(1, List.of(TOKENS), AetherConfig.defaults(), false, List.of(), 0, 1, 1);
        assertEquals(List.of("quantized-box+sum", "shrunk-box", "quest", "oracle", "sink+window", "random"),
                defaults.methods().stream().map(Method::name).toList());
        AetherConfig old = AetherConfig.builder().radarScore(ai.aether.attention.RadarScore.SHRUNK_BOX)
                .groupCombine(ai.aether.attention.GroupCombine.MAX).build();
        assertEquals(List.of("shrunk-box", "quantized-box+sum", "quest", "oracle", "sink+window", "random"),
                new BenchOptions(1, List.of(TOKENS), old, false, List.of(), 0, 1, 1).methods().stream().map(Method::name).toList());
    }

    @Test
    void keepingEveryBlockReproducesDenseAttention() throws Exception {
        for (ResultRow r : run(KvDtype.BF16, List.of(0.0))) {
            assertEquals(0, r.achievedSparsity(), 1e-12);
            assertEquals(1, r.cosineMean(), 1e-12, r.method());
            assertEquals(1, r.massRecallMean(), 1e-12, r.method());
            assertEquals(1, r.blockRecall(), 1e-12, r.method());
        }
    }
}
