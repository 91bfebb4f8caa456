package ai.aether.engine;

import ai.aether.attention.AttentionStats;
import ai.aether.model.AetherKvCache;

/**
 * What AETHER attention did over the decode steps of one generation (prefill is dense and not
 * counted). Sparsity is the share of KV blocks skipped, summed over layers and KV heads; bytes read
 * include the radar's metadata.
 *
 * @param decodeSteps           decode steps measured
 * @param sparsity              blocks skipped / blocks present, all layers
 * @param sparsityPerLayer      {@code [layers]} the same per layer (0 for dense layers)
 * @param bytesReadShare        (KV bytes read + metadata bytes + keys a rerank read) / dense KV bytes
 * @param certifiedDroppedMass  largest certified bound on dropped softmax mass (NaN unless the selection certifies)
 * @param selectionShare        radar + selection time / (radar + selection + attention) time
 * @param rerankShare           the part of {@code selectionShare} that a rerank spent reading candidates' keys (logits
 *                              the attention then reuses for the kept ones), same denominator
 * @param reusedSelectionShare  share of the (layer, KV head) selections that reused an earlier step's blocks
 *                              ({@code AetherConfig.reselectInterval})
 * @param calibrationMillis     how long the per-prompt layer-budget calibration took: once per prompt and config, in
 *                              the first decode step after the prefill (so a time to first token does not show it, the
 *                              second token's time does); 0 when none ran
 */
public record AttentionReport(long decodeSteps, double sparsity, double[] sparsityPerLayer, double bytesReadShare,
                              double certifiedDroppedMass, double selectionShare, double rerankShare, double reusedSelectionShare,
                              double calibrationMillis) {

    /** The report of the decode steps {@code cache} has counted since its last reset. */
    public static AttentionReport of(AetherKvCache cache) {
        AttentionStats total = cache.total();
        double[] perLayer = new double[cache.layers()];
        for (int layer = 0; layer < perLayer.length; layer++) perLayer[layer] = cache.layerTotal(layer).sparsity();
        long busy = total.selectionNanos() + total.attentionNanos();
        return new AttentionReport(cache.decodeSteps(), total.sparsity(), perLayer, total.bytesReadShare(),
                total.certifiedDroppedMass(), busy == 0 ? 0 : (double) total.selectionNanos() / busy,
                busy == 0 ? 0 : (double) total.rerankNanos() / busy,
                total.selections() == 0 ? 0 : (double) total.reusedSelections() / total.selections(), cache.currentCalibrationNanos() / 1e6);
    }

    /** One line for the CLI. */
    public String summary() {
        String line = String.format("AETHER: %d decode steps, sparsity %.1f%%, bytes read (KV, metadata, rerank keys) %.1f%% of dense, radar+selection %.1f%% of attention time (rerank key reads %.1f%%), %.0f%% of selections reused",
                decodeSteps, 100 * sparsity, 100 * bytesReadShare, 100 * selectionShare, 100 * rerankShare, 100 * reusedSelectionShare)
                + (calibrationMillis > 0 ? String.format(", layer-budget calibration %.0f ms (once per prompt)", calibrationMillis) : "");
        return Double.isNaN(certifiedDroppedMass) ? line : line + String.format(", certified dropped mass <= %.2e", certifiedDroppedMass);
    }
}
