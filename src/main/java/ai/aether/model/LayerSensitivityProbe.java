package ai.aether.model;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.LayerBudgetCalibration;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.SelectionMode;
import ai.aether.kernels.ops.VectorMath;

/**
 * How much each layer's sparse attention moves the model's output, measured on the prompt just
 * prefilled, for {@link LayerBudgets#CALIBRATED} budgets.
 *
 * <p>Why: the attention-output error a layer's selection makes says little about what it does to
 * the next token. On SmolLM2 at 80% sparsity the early layers make errors as large as any yet
 * change nothing downstream, while a few middle layers (7, 8, 17, 18, 20, 23) carry almost all
 * of the perplexity lost. So the probe re-decodes the prompt's last {@link #TOKENS} tokens once per
 * layer with only that layer sparse (uniform budget, every other layer dense) and once densely
 * (which also restores the dense cache), and takes the mean KL divergence of the next-token
 * distributions. Divided by the layer's squared relative error at that budget it gives a
 * sensitivity (KL per squared error) that the calibration weighs each layer's error curve by.
 * Cost: (layers + 1) x {@link #TOKENS} decode steps per prompt, about 9% of an 8K prefill on
 * SmolLM2; prompts under {@link #MIN_BLOCKS} blocks are not probed.
 */
public final class LayerSensitivityProbe {

    /** Prompt tokens re-decoded per probe. */
    public static final int TOKENS = 4;

    private LayerSensitivityProbe() {}

    /**
     * Prompts shorter than this many blocks are not probed (their calibration weighs the layers
     * evenly): there the probe would cost a third of the prefill, and a budget of a few blocks
     * leaves little to move.
     */
    public static final int MIN_BLOCKS = 32;

    /** Whether a prompt of {@code length} tokens is long enough for the probe to pay. */
    public static boolean worthIt(AetherConfig config, int length) {
        return length >= config.minSeqLength() && length >= (long) MIN_BLOCKS * config.blockSize();
    }

    /** Whether {@code config} asks for a probe: CALIBRATED TARGET_SPARSITY. */
    public static boolean wanted(AetherConfig config) {
        return config != null && config.layerBudgets() == LayerBudgets.CALIBRATED && config.selection() == SelectionMode.TARGET_SPARSITY;
    }

    /**
     * Probes the cached prompt under {@code config} and stores the sensitivities, {@link
     * LayerBudgetCalibration#shrunk shrunk} half-way to their geometric mean (a few tokens' worth
     * are noisy), in the cache ({@link AetherKvCache#setLayerSensitivity}). The cache must end with
     * {@code tail}'s tokens; afterwards it holds the same prompt with its last tokens decoded
     * densely, its config is unchanged and its statistics restart from zero.
     *
     * @param tail the prompt's last tokens (at most {@link #TOKENS} are used)
     * @return whether sensitivities were measured (false when there are no calibration rows)
     */
    public static boolean run(Model model, AetherKvCache cache, int[] tail, AetherConfig config) {
        double[] measured = measure(model, cache, tail, config, TOKENS);
        if (measured == null) return false;
        cache.setLayerSensitivity(LayerBudgetCalibration.shrunk(measured));
        return true;
    }

    /**
     * The raw sensitivities of the cached prompt (KL per squared relative error per layer; 0 where
     * not measured), from re-decoding up to {@code maxTokens} of its last tokens; null when the
     * cache has no calibration rows. Leaves the cache as {@link #run} does, statistics included.
     */
    public static double[] measure(Model model, AetherKvCache cache, int[] tail, AetherConfig config, int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("the probe re-decodes at least 1 token, got " + maxTokens);
        if (!wanted(config)) throw new IllegalArgumentException("the layer sensitivity probe is for CALIBRATED TARGET_SPARSITY configs, got " + config);
        if (tail == null || tail.length == 0) throw new IllegalArgumentException("the probe needs the prompt's last tokens");
        int length = cache.length(0), count = Math.min(maxTokens, tail.length), start = length - count;
        if (start < 0) throw new IllegalArgumentException("the cache holds " + length + " tokens, fewer than the " + count + " to re-decode");
        int[] tokens = java.util.Arrays.copyOfRange(tail, tail.length - count, tail.length);
        LayerBudgetCalibration.Curves curves = cache.calibrationCurves(config);
        if (curves == null) return null;
        int layers = cache.layers();
        float[][][] sparse = new float[layers][][];  // [layer][token][vocab]
        float[][] dense = new float[count][];
        AetherConfig original = cache.config();
        AetherKvCache.CalibrationRows rows = cache.calibrationRows();  // truncating into the prompt drops them
        try {
            for (int layer = 0; layer < layers; layer++) {
                if (curves.error()[layer] == null) continue;
                cache.setConfig(config.toBuilder().denseLayers(allBut(layer, layers)).layerBudgets(LayerBudgets.UNIFORM).build());
                sparse[layer] = decode(model, cache, tokens, start);
            }
            cache.setConfig(null);
            dense = decode(model, cache, tokens, start);  // last, so that the cache ends as a dense prefill would leave it
            cache.restoreCalibrationRows(rows);
        } finally {
            cache.setConfig(original);
        }
        double[] divergence = new double[layers];
        for (int layer = 0; layer < layers; layer++) {
            if (sparse[layer] == null) continue;
            for (int i = 0; i < count; i++) divergence[layer] += VectorMath.klDivergence(dense[i], sparse[layer][i]) / count;
        }
        cache.resetStats();  // the probe's steps are not the user's decode steps
        return LayerBudgetCalibration.sensitivities(curves, divergence);
    }

    private static float[][] decode(Model model, AetherKvCache cache, int[] tokens, int start) {
        cache.truncate(start);
        float[][] logits = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) logits[i] = model.decode(tokens[i], start + i, cache);
        return logits;
    }

    private static int[] allBut(int layer, int layers) {
        int[] others = new int[layers - 1];
        for (int l = 0, j = 0; l < layers; l++) if (l != layer) others[j++] = l;
        return others;
    }
}
