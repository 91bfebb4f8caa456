package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.GroupCombine;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.RadarScore;
import ai.aether.attention.SelectionMode;
import ai.aether.kernels.attention.KvDtype;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * The AETHER configuration flags shared by every command that runs the model ({@code generate},
 * {@code chat}, {@code demo}, {@code e2e}). Unset flags keep {@link AetherConfig}'s defaults; giving
 * {@code --threshold}, {@code --top-k-blocks} or {@code --epsilon} without {@code --selection} picks the
 * matching selection mode.
 */
public final class AetherOptions {

    @Option(names = "--dense", description = "Dense attention (no AETHER) for this run.")
    boolean dense;

    @Option(names = "--block-size", paramLabel = "N", description = "Tokens per KV block (default 64).")
    Integer blockSize;

    @Option(names = "--selection", paramLabel = "MODE", description = "Block selection: ${COMPLETION-CANDIDATES} (default TARGET_SPARSITY).")
    SelectionMode selection;

    @Option(names = {"--target-sparsity", "--sparsity"}, paramLabel = "S", description = "Share of blocks to skip, in [0, 1) (default 0.8).")
    Double targetSparsity;

    @Option(names = "--threshold", paramLabel = "T", description = "THRESHOLD selection: keep blocks whose estimated share of attention mass exceeds T, in (0, 1].")
    Double threshold;

    @Option(names = "--top-k-blocks", paramLabel = "K", description = "TOP_K selection: blocks kept besides sinks and the local window.")
    Integer topK;

    @Option(names = "--epsilon", paramLabel = "E", description = "CERTIFIED selection: bound on the dropped softmax mass, in (0, 1).")
    Double epsilon;

    @Option(names = "--local-window", paramLabel = "BLOCKS", description = "Newest blocks always kept (default 4; with --target-sparsity narrowed, to at least 1, so the radar chooses at least half the budget).")
    Integer localWindow;

    @Option(names = "--sink-blocks", paramLabel = "BLOCKS", description = "First blocks always kept (default 1; TARGET_SPARSITY keeps them only when the budget has room: at least 4 blocks for 1 sink).")
    Integer sinkBlocks;

    @Option(names = "--dense-layers", paramLabel = "L", split = ",", description = "Layers attended densely, e.g. 0,1 (default none).")
    List<Integer> denseLayers = new ArrayList<>();

    @Option(names = "--min-seq-length", paramLabel = "N", description = "Dense attention below N cached tokens (default 128).")
    Integer minSeqLength;

    @Option(names = "--min-kept-tokens", paramLabel = "N", description = "--target-sparsity keeps at least N tokens' blocks (default 768; 0: the target at every length).")
    Integer minKeptTokens;

    @Option(names = "--reselect-every", paramLabel = "N", description = "In the layers that do not rerank, run the radar and selection every N decode "
            + "steps, the steps between reusing each layer's kept blocks (default 8; 1: every step; --epsilon selects at every step).")
    Integer reselectInterval;

    @Option(names = "--score", paramLabel = "SCORE", description = "Radar score: ${COMPLETION-CANDIDATES} (default QUANTIZED_BOX).")
    RadarScore score;

    @Option(names = "--group-combine", paramLabel = "MODE", description = "GQA group's scores combined by: ${COMPLETION-CANDIDATES} (default SOFTMAX_SUM).")
    GroupCombine groupCombine;

    @Option(names = "--layer-budgets", paramLabel = "MODE", description = "TARGET_SPARSITY budget per layer: ${COMPLETION-CANDIDATES} "
            + "(default CALIBRATED: the same total as UNIFORM, spread over the layers by the model's layer-sensitivity profile "
            + "(`aether calibrate`; SmolLM2 Q4_1's is bundled), else by a probe of the prompt; UNIFORM: the same share in every layer).")
    LayerBudgets layerBudgets;

    @Option(names = "--rerank", paramLabel = "F", description = "In the rerank layers, read the keys of the radar's best F x k blocks "
            + "and keep the k of largest exact attention mass; 1 = off, in [1, 16] (default 2).")
    Double rerank;

    @Option(names = "--rerank-layers", paramLabel = "L", split = ",", description = "Layers that rerank, e.g. 17,19 "
            + "(default: the --rerank-share of layers where the model's layer-sensitivity profile and the prompt's calibration "
            + "predict a better block order helps most).")
    List<Integer> rerankLayers = new ArrayList<>();

    @Option(names = "--rerank-share", paramLabel = "S", description = "Share of layers that rerank, where it helps most first; 1 = every layer (default 0.2).")
    Double rerankShare;

    @Option(names = "--kv", paramLabel = "TYPE", description = "KV cache storage: ${COMPLETION-CANDIDATES} (default FP16).")
    KvDtype kv;

    /** The AETHER config the flags describe, even with {@code --dense} (comparisons need both). */
    public AetherConfig config() {
        AetherConfig.Builder b = AetherConfig.builder();
        if (blockSize != null) b.blockSize(blockSize);
        if (targetSparsity != null) b.targetSparsity(targetSparsity);
        if (threshold != null) b.threshold(threshold);
        if (topK != null) b.topK(topK);
        if (epsilon != null) b.epsilon(epsilon);
        if (localWindow != null) b.localWindow(localWindow);
        if (sinkBlocks != null) b.sinkBlocks(sinkBlocks);
        if (!denseLayers.isEmpty()) b.denseLayers(denseLayers.stream().mapToInt(Integer::intValue).toArray());
        if (minSeqLength != null) b.minSeqLength(minSeqLength);
        if (minKeptTokens != null) b.minKeptTokens(minKeptTokens);
        if (reselectInterval != null) b.reselectInterval(reselectInterval);
        if (score != null) b.radarScore(score);
        if (groupCombine != null) b.groupCombine(groupCombine);
        if (layerBudgets != null) b.layerBudgets(layerBudgets);
        if (rerank != null) b.rerankFactor(rerank);
        if (!rerankLayers.isEmpty()) b.rerankLayers(new java.util.TreeSet<>(rerankLayers));
        if (rerankShare != null) b.rerankShare(rerankShare);
        if (kv != null) b.kvDtype(kv);
        b.selection(selectionMode());
        return b.build();
    }

    /** The config for this run: null when {@code --dense}. */
    public AetherConfig configOrDense() {
        return dense ? null : config();
    }

    /** KV storage type (for dense caches too). */
    public KvDtype kvDtype() {
        return kv != null ? kv : KvDtype.FP16;
    }

    private SelectionMode selectionMode() {
        int implied = (threshold != null ? 1 : 0) + (topK != null ? 1 : 0) + (epsilon != null ? 1 : 0);
        if (selection != null) return selection;
        if (implied > 1) throw new IllegalArgumentException("--threshold, --top-k-blocks and --epsilon pick different selections; give one, or --selection");
        if (threshold != null) return SelectionMode.THRESHOLD;
        if (topK != null) return SelectionMode.TOP_K;
        if (epsilon != null) return SelectionMode.CERTIFIED;
        return SelectionMode.TARGET_SPARSITY;
    }

    /** A short description for headers, e.g. "target sparsity 0.80, block 64, sinks 1, window 4 blocks, score QUANTIZED_BOX (SOFTMAX_SUM)". */
    public static String describe(AetherConfig c) {
        String mode = switch (c.selection()) {
            case TARGET_SPARSITY -> String.format("target sparsity %.2f", c.targetSparsity())
                    + (c.layerBudgets() == LayerBudgets.CALIBRATED ? " (calibrated layer budgets)" : "")
                    + (c.minKeptTokens() > 0 ? ", at least " + c.minKeptTokens() + " tokens kept" : "");
            case THRESHOLD -> "threshold " + c.threshold();
            case TOP_K -> "top-k " + c.topK();
            case CERTIFIED -> "certified eps " + c.epsilon();
        };
        return mode + ", block " + c.blockSize() + ", sinks " + c.sinkBlocks() + ", window " + c.localWindow() + " blocks, score "
                + c.radarScore() + " (" + c.groupCombine() + ")" + (c.denseLayers().isEmpty() ? "" : ", dense layers " + c.denseLayers()) + rerank(c)
                + (c.reselectInterval() > 1 ? ", selection reused " + c.reselectInterval() + " steps outside rerank layers" : "") + ", KV " + c.kvDtype();
    }

    private static String rerank(AetherConfig c) {
        if (c.rerankFactor() <= 1 || (c.selection() != SelectionMode.TARGET_SPARSITY && c.selection() != SelectionMode.TOP_K)) return "";
        String where = !c.rerankLayers().isEmpty() ? "layers " + c.rerankLayers()
                : c.rerankShare() >= 1 ? "every layer" : String.format("the %.0f%% of layers where it helps most", 100 * c.rerankShare());
        return ", rerank " + java.math.BigDecimal.valueOf(c.rerankFactor()).stripTrailingZeros().toPlainString() + "x in " + where;
    }
}
