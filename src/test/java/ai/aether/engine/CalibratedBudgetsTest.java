package ai.aether.engine;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.SelectionMode;
import ai.aether.model.AetherKvCache;
import ai.aether.model.LayerSensitivityProfile;
import ai.aether.model.Model;
import ai.aether.model.SharedModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CALIBRATED layer budgets on a real (tiny) model: the prefill's sensitivity probe leaves the cache
 * as a plain prefill would, and the calibrated budgets read as many blocks as uniform ones.
 * Needs ../shared/models/stories260K (skips without it).
 */
class CalibratedBudgetsTest {
    static final String PROMPT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ".repeat(12);

    static AetherConfig config(LayerBudgets budgets) {
        return AetherConfig.builder().blockSize(8).minSeqLength(0).minKeptTokens(0).selection(SelectionMode.TARGET_SPARSITY).targetSparsity(0.6)
                .localWindow(1).layerBudgets(budgets).build();
    }

    @Test
    void theProbeLeavesThePrefilledCacheAsItWasAndBudgetsKeepTheirTotal() throws Exception {
        Path path = SharedModels.require(SharedModels.STORIES_F32);
        try (LLM llm = LLM.load(path, (AetherConfig) null)) {
            Model model = llm.model();
            int[] prompt = llm.encodePrompt(PROMPT);
            AetherKvCache uniform = new AetherKvCache(model.config(), prompt.length + 8, config(LayerBudgets.UNIFORM));
            AetherKvCache calibrated = new AetherKvCache(model.config(), prompt.length + 8, config(LayerBudgets.CALIBRATED));
            float[] a = model.prefill(prompt, 0, uniform).clone(), b = model.prefill(prompt, 0, calibrated);
            for (int i = 0; i < a.length; i++) {  // equal up to float summation order (JIT tiers differ between the two runs)
                assertEquals(a[i], b[i], 1e-3 * Math.max(1, Math.abs(a[i])), "logit " + i + ": the prefill's own, not a probe's");
            }
            assertNull(uniform.layerSensitivity(), "no probe for UNIFORM budgets");
            double[] sensitivity = calibrated.layerSensitivity();
            assertNotNull(sensitivity, "the prefill probed the layers");
            for (double s : sensitivity) assertTrue(s >= 0 && Double.isFinite(s), "sensitivity " + s);
            assertTrue(java.util.Arrays.stream(sensitivity).anyMatch(s -> s > 0), "skipping 60% of the blocks changes the output somewhere");
            for (int layer = 0; layer < model.config().layers(); layer++) {
                assertEquals(prompt.length, calibrated.length(layer));
                float[][] x = uniform.readLayer(layer, prompt.length), y = calibrated.readLayer(layer, prompt.length);
                for (int kv = 0; kv < 2; kv++) {
                    for (int i = 0; i < x[kv].length; i++) {
                        assertEquals(x[kv][i], y[kv][i], 2e-2 * Math.max(1, Math.abs(x[kv][i])),
                                "layer " + layer + (kv == 0 ? " key " : " value ") + i + ": the probe's last dense re-decode restores the prefill's cache");
                    }
                }
            }
            int first = VectorArgmax.of(b);
            model.decode(first, prompt.length, uniform);
            model.decode(first, prompt.length, calibrated);
            long keptUniform = uniform.total().blocksKept(), keptCalibrated = calibrated.total().blocksKept();
            int layers = model.config().layers();
            assertTrue(Math.abs(keptCalibrated - keptUniform) <= layers,
                    "same total budget (rounding aside): " + keptCalibrated + " vs " + keptUniform + " blocks");
            boolean moved = false;
            for (int layer = 0; layer < layers; layer++) moved |= calibrated.budgetScale(layer) != 1.0;
            assertTrue(moved, "the calibration moved blocks between layers");
        }
    }

    @Test
    void decodingUnderAnotherSettingFirstLeavesTheCalibrationToThePrompt() throws Exception {
        Path path = SharedModels.require(SharedModels.STORIES_F32);
        try (LLM llm = LLM.load(path, (AetherConfig) null)) {
            Model model = llm.model();
            int[] prompt = llm.encodePrompt(PROMPT);
            AetherConfig calibrated = config(LayerBudgets.CALIBRATED);
            AetherKvCache cache = new AetherKvCache(model.config(), prompt.length + 16, calibrated);
            int token = VectorArgmax.of(model.prefill(prompt, 0, cache));
            cache.setConfig(null);  // dense first, as an evaluation does: 12 decode steps past the prompt
            for (int i = 0; i < 12; i++) token = VectorArgmax.of(model.decode(token, prompt.length + i, cache));
            cache.truncate(prompt.length);
            cache.setConfig(calibrated);
            model.decode(token, prompt.length, cache);
            boolean moved = false;
            for (int layer = 0; layer < model.config().layers(); layer++) moved |= cache.budgetScale(layer) != 1.0;
            assertTrue(moved, "the calibration still has the prompt's rows after decoding under another setting");
        }
    }

    @Test
    void aModelProfileReplacesThePerPromptProbe(@org.junit.jupiter.api.io.TempDir Path profiles) throws Exception {
        Path path = SharedModels.require(SharedModels.STORIES_F32);
        AetherConfig calibrated = config(LayerBudgets.CALIBRATED);
        String fingerprint = LayerSensitivityProfile.fingerprint(path);
        try (Model model = Model.load(path, profiles); LLM llm = LLM.load(path, (AetherConfig) null)) {
            assertTrue(model.layerProfile().isEmpty(), "no profile in an empty directory (and none shipped for stories260K)");
            int[] text = llm.encodePrompt(PROMPT + PROMPT);
            java.util.List<int[]> windows = java.util.List.of(java.util.Arrays.copyOfRange(text, 0, 300), java.util.Arrays.copyOfRange(text, 40, 340));
            int[] done = {0};
            LayerSensitivityProfile profile = LayerSensitivityProfile.measure(model, fingerprint, windows, calibrated, 3, "test", d -> done[0] = d);
            assertEquals(2, done[0]);
            // independently: each window probed on its own, then the geometric mean
            double[] logSum = new double[model.config().layers()];
            for (int[] window : windows) {
                AetherKvCache cache = new AetherKvCache(model.config(), window.length, config(LayerBudgets.UNIFORM));
                model.prefill(window, 0, cache);
                double[] s = ai.aether.model.LayerSensitivityProbe.measure(model, cache, window, calibrated, 3);
                for (int l = 0; l < s.length; l++) logSum[l] += Math.log(Math.max(s[l], 1e-12)) / windows.size();
                cache.release();
            }
            for (int l = 0; l < logSum.length; l++) {
                assertEquals(Math.exp(logSum[l]), profile.sensitivity()[l], 1e-2 * Math.exp(logSum[l]), "layer " + l);
            }
            java.nio.file.Files.writeString(LayerSensitivityProfile.userFile(profiles, fingerprint), profile.toJson());
        }
        try (Model model = Model.load(path, profiles); LLM llm = LLM.load(path, (AetherConfig) null)) {
            LayerSensitivityProfile profile = model.layerProfile().orElseThrow(() -> new AssertionError("Model.load found the profile"));
            int[] prompt = llm.encodePrompt(PROMPT);
            AetherKvCache cache = new AetherKvCache(model.config(), prompt.length + 8, calibrated);
            int first = VectorArgmax.of(model.prefill(prompt, 0, cache));
            org.junit.jupiter.api.Assertions.assertArrayEquals(profile.sensitivity(), cache.layerSensitivity(), 0.0,
                    "the profile's sensitivities as they are (a probe's would be shrunk measurements of this prompt)");
            model.decode(first, prompt.length, cache);
            boolean moved = false;
            for (int layer = 0; layer < model.config().layers(); layer++) moved |= cache.budgetScale(layer) != 1.0;
            assertTrue(moved, "the profile moved blocks between layers");
        }
    }

    /** Greedy token without depending on the sampler. */
    static final class VectorArgmax {
        static int of(float[] logits) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
    }
}
