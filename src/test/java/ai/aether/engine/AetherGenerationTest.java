package ai.aether.engine;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.AttentionStats;
import ai.aether.attention.SelectionMode;
import ai.aether.model.SharedModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generation through the AETHER cache: identical to dense when nothing is skipped, and reporting what it skipped. */
class AetherGenerationTest {

    @Test
    void keepingEveryBlockGeneratesExactlyTheDenseTokens() throws Exception {
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        AetherConfig keepAll = AetherConfig.builder().blockSize(16).minSeqLength(0).minKeptTokens(0)
                .selection(SelectionMode.TARGET_SPARSITY).targetSparsity(0).build();
        String prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.";
        try (LLM dense = LLM.load(model, (AetherConfig) null); LLM aether = LLM.load(model, keepAll)) {
            GenerationResult d = dense.generate(prompt, GenerationParams.greedy(60));
            GenerationResult a = aether.generate(prompt, GenerationParams.greedy(60));
            assertArrayEquals(d.tokens(), a.tokens(), "same fp16 KV, same kernel, every block kept");
            assertNull(d.attention(), "a dense cache has no AETHER report");
            assertNotNull(a.attention());
            assertEquals(0.0, a.attention().sparsity());
            assertEquals(59, a.attention().decodeSteps(), "60 tokens: the first comes from the prefill");
        }
    }

    @Test
    void teacherForcedAgreementIsExactForDenseAndMeasuresSparseSettings() throws Exception {
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        AetherConfig keepAll = AetherConfig.builder().blockSize(16).minSeqLength(0).minKeptTokens(0).targetSparsity(0).build();
        AetherConfig sparse = keepAll.toBuilder().targetSparsity(0.6).localWindow(1).build();
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            int[] prompt = llm.encodePrompt("Once upon a time, there was a little girl named Lily. She loved to play outside. ".repeat(5));
            List<SideBySide.Agreement> result = SideBySide.teacherForced(llm, prompt, 12, List.of(SideBySide.Setting.dense(),
                    new SideBySide.Setting("keep all", keepAll), new SideBySide.Setting("sparse", sparse)));
            assertEquals(12, result.get(0).agreeing());
            assertEquals(0.0, result.get(0).meanKl(), 1e-9);
            assertEquals(12, result.get(1).agreeing(), "every block kept is dense attention");
            assertEquals(0.0, result.get(1).meanKl(), 1e-9);
            assertTrue(result.get(2).meanKl() > 0, "skipping 60% of the blocks changes the distributions");
        }
    }

    @Test
    void sideBySideRunsAPromptThatLeavesTheWarmUpLittleRoom() throws Exception {
        // The warm-up's rounds are 72 steps where the context has room; here it has 6 positions.
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        AetherConfig keepAll = AetherConfig.builder().blockSize(16).minSeqLength(0).minKeptTokens(0).targetSparsity(0).build();
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            int[] text = llm.encodePrompt("Once upon a time, there was a little girl named Lily. She loved to play outside. ".repeat(100));
            int[] prompt = java.util.Arrays.copyOf(text, llm.contextLength() - 6);
            SideBySide.Outcome o = SideBySide.run(llm, prompt, 4, List.of(SideBySide.Setting.dense(), new SideBySide.Setting("keep all", keepAll)), null);
            assertTrue(o.runs().get(0).tokens().length >= 1);
            assertArrayEquals(o.runs().get(0).tokens(), o.runs().get(1).tokens(), "every block kept is dense attention");
        }
    }

    @Test
    void klDivergenceMatchesTheClosedForm() {
        // p uniform over two tokens, q = (1/4, 3/4): KL = 0.5 ln 2 + 0.5 ln(2/3) = 0.5 ln(4/3)
        assertEquals(0.5 * Math.log(4.0 / 3.0), SideBySide.klDivergence(new float[] {0, 0}, new float[] {0, (float) Math.log(3)}), 1e-7);
        assertEquals(0.0, SideBySide.klDivergence(new float[] {1, 2, 3}, new float[] {11, 12, 13}), 1e-9, "logits shifted by a constant");
    }

    /**
     * SmolLM2 (the shipped 8K model) on ~1,500 tokens of Shakespeare: the target sparsity is met in
     * every sparse layer, dense layers read everything, and the per-step statistics are exposed.
     * Needs ../shared/models (skips without it).
     */
    @Test
    void targetSparsityIsReachedInsideTheModel() throws Exception {
        Path model = SharedModels.require(SharedModels.SMOLLM2_Q4_1);
        Path text = Path.of("..", "shared", "data", "tinyshakespeare.txt");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(text), "skipped: " + text + " is absent");
        String prompt = Files.readString(text).substring(0, 6000);
        AetherConfig config = AetherConfig.builder().targetSparsity(0.8).denseLayers(0).minSeqLength(128).minKeptTokens(0).layerBudgets(ai.aether.attention.LayerBudgets.UNIFORM).build();
        try (LLM llm = LLM.load(model, LLM.Options.DEFAULT.withContextLength(2048).withAether(config))) {
            Generation generation = llm.start(prompt, GenerationParams.greedy(4));
            generation.next();
            while (generation.hasNext()) generation.next();
            GenerationResult result = generation.result();
            int promptTokens = result.timings().promptTokens();
            assertTrue(promptTokens > 1200, "prompt tokens: " + promptTokens);
            AttentionReport report = result.attention();
            int blocks = (promptTokens + 2 + 63) / 64;  // the cache length at the last step, in 64-token blocks
            int kept = (int) Math.ceil(0.2 * blocks - 1e-9);
            assertEquals(0.0, report.sparsityPerLayer()[0], "layer 0 is dense");
            for (int layer = 1; layer < report.sparsityPerLayer().length; layer++) {
                assertTrue(report.sparsityPerLayer()[layer] > 0.7, "layer " + layer + " sparsity " + report.sparsityPerLayer()[layer]);
            }
            AttentionStats[] last = generation.lastStepStats();
            assertEquals(30, last.length);
            assertEquals(1.0 - (double) kept / blocks, last[5].sparsity(), 1e-9, "layer 5, last step: " + kept + " of " + blocks + " blocks");
            assertTrue(report.bytesReadShare() < 0.3, "bytes read share " + report.bytesReadShare());
            // 3 decode steps, selections reused for 8 outside the rerank layers: steps 2 and 3 reuse there, never step 1.
            assertTrue(report.reusedSelectionShare() > 0.3 && report.reusedSelectionShare() <= 2.0 / 3 + 1e-9,
                    "reused share " + report.reusedSelectionShare());
        }
    }
}
