package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;

import java.util.Set;
import java.util.TreeSet;

/**
 * Every knob of AETHER (SPEC section 2), immutable and validated: an invalid value fails at
 * construction with a message naming the field and its allowed range.
 *
 * <pre>{@code
 * AetherConfig config = AetherConfig.builder().selection(SelectionMode.TOP_K).topK(32).build();
 * }</pre>
 *
 * @param blockSize        tokens per KV block, [1, 4096], default 64
 * @param threshold        THRESHOLD selection: a mass share in (0, 1] (MASS_SHARE) or a raw score (ABSOLUTE); default 0.002
 * @param thresholdMode    MASS_SHARE (scale-free, default) or ABSOLUTE (seed compatibility)
 * @param targetSparsity   TARGET_SPARSITY: share of blocks to skip, [0, 1), default 0.8
 * @param topK             TOP_K: blocks kept besides the forced ones, [0, 1_000_000], default 16
 * @param localWindow      newest blocks always kept (the open partial block is always kept too), [0, 1_000_000], default 4;
 *                         TARGET_SPARSITY narrows it (to at least 1) when sinks + window would take over half the block budget
 * @param sinkBlocks       first blocks always kept (attention sinks), [0, 1_000_000], default 1; TARGET_SPARSITY forces
 *                         fewer (down to none; the radar may still choose them) when the sinks and the newest block
 *                         would take over half the block budget (budgets of 2-3 blocks)
 * @param recencyDecay     per-block decay of the CAUSAL recency bonus, (0, 1], default 0.95
 * @param recencyBonus     bonus of the newest block, relative to |score|, [0, 10], default 0.1
 * @param useVariance      seed scores: widen the deviation by (1 + sqrt(var)), default false
 * @param useConcentration seed scores: scale the deviation by (0.3 + 0.7 conc), default false
 * @param causal           seed scores BASIC/VARIANCE/CONCENTRATION also get the recency bonus (as CAUSAL does), default false
 * @param minSeqLength     below this many cached tokens attention is dense, [0, 2^30], default 128
 * @param selection        selection mode, default TARGET_SPARSITY
 * @param epsilon          CERTIFIED: bound on the dropped softmax mass, (0, 1), default 0.01
 * @param denseLayers      layer indices always attended densely (e.g. {0, 1} as Quest does), each >= 0
 * @param gqaPolicy        SHARED_MAX (default: one selection per KV head, its rows combined by {@code groupCombine}) or PER_QUERY_HEAD
 * @param radarScore       block score ranking blocks for THRESHOLD / TOP_K / TARGET_SPARSITY, default QUANTIZED_BOX
 *                         (CERTIFIED selection uses {@link RadarScore#certifiedCounterpart()})
 * @param shrinkFactor     SHRUNK_BOX / QUANTIZED_BOX beta, [0, 1], default 0.5
 * @param kvDtype          storage type of cached keys and values, default FP16
 * @param groupCombine     how a shared selection's rows (a GQA group) combine into one ranking score for TOP_K and
 *                         TARGET_SPARSITY: MAX or SOFTMAX_SUM (default)
 * @param layerBudgets     TARGET_SPARSITY: the same budget in every layer (UNIFORM) or the same total spread over the
 *                         layers by the model's layer sensitivities and the prompt's error curves (CALIBRATED, {@link LayerBudgetCalibration}); default CALIBRATED
 * @param rerankFactor     TOP_K / TARGET_SPARSITY: 1 keeps the radar's best k blocks; f > 1 (in the rerank layers) reads the
 *                         keys of the radar's best {@code ceil(f * k)} and keeps the k of largest exact attention mass; [1, 16], default 2
 * @param rerankLayers     the layers that rerank; empty (default): chosen by {@code rerankShare}
 * @param rerankShare      without {@code rerankLayers}: the share of layers that rerank, those where a better block order
 *                         is predicted to help most ({@link LayerBudgetCalibration#rerankLayers}: layer sensitivity x the gap
 *                         between the radar's and the true order's error, on the prompt), or by sensitivity alone when budgets
 *                         are UNIFORM; none until sensitivities are known; 1 = every layer; [0, 1], default 0.2
 * @param minKeptTokens    TARGET_SPARSITY: the block budget never falls below this many tokens' blocks (at most every
 *                         block), so short contexts, where skipping blocks saves little time, stay near dense quality:
 *                         on SmolLM2 at 80%, perplexity +32% of dense over 1K windows, +8.5% over 2K, +4.5% over 4K,
 *                         +0.5% over 8K (docs/quality.md, "Short contexts"); the default leaves 80% and 90% at 8K as
 *                         asked; 0 = the target everywhere above {@code minSeqLength}; [0, 2^30], default 768
 * @param reselectInterval decode steps one selection serves in the layers that do not rerank: 1 runs the radar and
 *                         selection at every step; n > 1 reuses a layer's kept blocks for the next n-1 steps (with any block
 *                         started since), skipping its radar and ranking there; the rerank layers (where the block order
 *                         matters most) and CERTIFIED selection (its bound holds for one query) select at every step; at 8K
 *                         on SmolLM2, 8 decodes ~7% faster than 1 for perplexity +0.58% of dense instead of +0.48%
 *                         (docs/benchmarks-e2e.md, "Tenth session"); [1, 64], default 8
 */
public record AetherConfig(int blockSize, double threshold, ThresholdMode thresholdMode, double targetSparsity, int topK,
                           int localWindow, int sinkBlocks, double recencyDecay, double recencyBonus, boolean useVariance,
                           boolean useConcentration, boolean causal, int minSeqLength, SelectionMode selection,
                           double epsilon, Set<Integer> denseLayers, GqaPolicy gqaPolicy, RadarScore radarScore,
                           double shrinkFactor, KvDtype kvDtype, GroupCombine groupCombine, LayerBudgets layerBudgets,
                           double rerankFactor, Set<Integer> rerankLayers, double rerankShare, int minKeptTokens,
                           int reselectInterval) {

    public AetherConfig {
        requireRange("blockSize", blockSize, 1, 4096);
        requireNonNull("thresholdMode", thresholdMode, "MASS_SHARE, ABSOLUTE");
        if (thresholdMode == ThresholdMode.MASS_SHARE) {
            if (!(threshold > 0 && threshold <= 1)) {
                throw new IllegalArgumentException("threshold must be in (0, 1] (a share of attention mass, thresholdMode MASS_SHARE), got " + threshold);
            }
        } else if (!Double.isFinite(threshold)) {
            throw new IllegalArgumentException("threshold must be a finite number (thresholdMode ABSOLUTE), got " + threshold);
        }
        if (!(targetSparsity >= 0 && targetSparsity < 1)) throw new IllegalArgumentException("targetSparsity must be in [0, 1), got " + targetSparsity);
        requireRange("topK", topK, 0, 1_000_000);
        requireRange("localWindow", localWindow, 0, 1_000_000);
        requireRange("sinkBlocks", sinkBlocks, 0, 1_000_000);
        if (!(recencyDecay > 0 && recencyDecay <= 1)) throw new IllegalArgumentException("recencyDecay must be in (0, 1], got " + recencyDecay);
        if (!(recencyBonus >= 0 && recencyBonus <= 10)) throw new IllegalArgumentException("recencyBonus must be in [0, 10], got " + recencyBonus);
        requireRange("minSeqLength", minSeqLength, 0, 1 << 30);
        requireNonNull("selection", selection, "THRESHOLD, TOP_K, TARGET_SPARSITY, CERTIFIED");
        if (!(epsilon > 0 && epsilon < 1)) throw new IllegalArgumentException("epsilon must be in (0, 1), got " + epsilon);
        denseLayers = layerSet("denseLayers", denseLayers);
        requireNonNull("gqaPolicy", gqaPolicy, "SHARED_MAX, PER_QUERY_HEAD");
        requireNonNull("radarScore", radarScore, java.util.Arrays.toString(RadarScore.values()));
        if (!(shrinkFactor >= 0 && shrinkFactor <= 1)) throw new IllegalArgumentException("shrinkFactor must be in [0, 1], got " + shrinkFactor);
        requireNonNull("kvDtype", kvDtype, "FP32, FP16, BF16, INT8");
        requireNonNull("groupCombine", groupCombine, "MAX, SOFTMAX_SUM");
        requireNonNull("layerBudgets", layerBudgets, "UNIFORM, CALIBRATED");
        if (!(rerankFactor >= 1 && rerankFactor <= 16)) throw new IllegalArgumentException("rerankFactor must be in [1, 16], got " + rerankFactor);
        rerankLayers = layerSet("rerankLayers", rerankLayers);
        if (!(rerankShare >= 0 && rerankShare <= 1)) throw new IllegalArgumentException("rerankShare must be in [0, 1], got " + rerankShare);
        requireRange("minKeptTokens", minKeptTokens, 0, 1 << 30);
        requireRange("reselectInterval", reselectInterval, 1, 64);
    }

    private static Set<Integer> layerSet(String field, Set<Integer> layers) {
        if (layers == null) throw new IllegalArgumentException(field + " must be a set of layer indices (empty for none), got null");
        for (Integer layer : layers) {
            if (layer == null || layer < 0) throw new IllegalArgumentException(field + " entries must be layer indices >= 0, got " + layer);
        }
        return java.util.Collections.unmodifiableSortedSet(new TreeSet<>(layers));
    }

    private static void requireRange(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(field + " must be in [" + min + ", " + max + "], got " + value);
        }
    }

    private static void requireNonNull(String field, Object value, String allowed) {
        if (value == null) throw new IllegalArgumentException(field + " must be one of " + allowed + ", got null");
    }

    /** The defaults listed on each field. */
    public static AetherConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.blockSize = blockSize; b.threshold = threshold; b.thresholdMode = thresholdMode; b.targetSparsity = targetSparsity;
        b.topK = topK; b.localWindow = localWindow; b.sinkBlocks = sinkBlocks; b.recencyDecay = recencyDecay;
        b.recencyBonus = recencyBonus; b.useVariance = useVariance; b.useConcentration = useConcentration; b.causal = causal;
        b.minSeqLength = minSeqLength; b.selection = selection; b.epsilon = epsilon; b.denseLayers = denseLayers;
        b.gqaPolicy = gqaPolicy; b.radarScore = radarScore; b.shrinkFactor = shrinkFactor; b.kvDtype = kvDtype;
        b.groupCombine = groupCombine; b.layerBudgets = layerBudgets; b.rerankFactor = rerankFactor; b.rerankLayers = rerankLayers;
        b.rerankShare = rerankShare; b.minKeptTokens = minKeptTokens; b.reselectInterval = reselectInterval;
        return b;
    }

    /** Whether layer {@code layer} is attended densely whatever the selection. */
    public boolean isDenseLayer(int layer) {
        return denseLayers.contains(layer);
    }

    /**
     * Whether TOP_K / TARGET_SPARSITY selection in {@code layer} reranks the radar's candidates by exact
     * mass when no layer sensitivities are known: the {@code rerankLayers}, or every layer at {@code rerankShare} 1.
     */
    public boolean reranks(int layer) {
        if (rerankFactor <= 1) return false;
        return rerankLayers.isEmpty() ? rerankShare >= 1 : rerankLayers.contains(layer);
    }

    /**
     * The layers that rerank given per-layer sensitivities ({@code [layers]}, larger = the output moves
     * more with that layer's attention error): the {@code rerankLayers}, else the
     * {@code ceil(rerankShare * layers)} most sensitive (ties: lower layer first). All false when
     * {@code rerankFactor} is 1.
     */
    public boolean[] rerankLayersFor(double[] sensitivity) {
        int layers = sensitivity.length;
        boolean[] out = new boolean[layers];
        if (rerankFactor <= 1) return out;
        if (!rerankLayers.isEmpty()) {
            for (int layer : rerankLayers) if (layer < layers) out[layer] = true;
            return out;
        }
        int chosen = (int) Math.min(layers, Math.ceil(rerankShare * layers - 1e-9));
        Integer[] order = new Integer[layers];
        for (int i = 0; i < layers; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(sensitivity[b], sensitivity[a]));
        for (int i = 0; i < chosen; i++) out[order[i]] = true;
        return out;
    }

    /** The score that ranks blocks: CERTIFIED selection always uses a certified bound (QUANTIZED_BOUND for the quantised box, else CERTIFIED). */
    public RadarScore effectiveScore() {
        return selection == SelectionMode.CERTIFIED ? radarScore.certifiedCounterpart() : radarScore;
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private int blockSize = 64;
        private double threshold = 0.002;
        private ThresholdMode thresholdMode = ThresholdMode.MASS_SHARE;
        private double targetSparsity = 0.8;
        private int topK = 16;
        private int localWindow = 4;
        private int sinkBlocks = 1;
        private double recencyDecay = 0.95;
        private double recencyBonus = 0.1;
        private boolean useVariance;
        private boolean useConcentration;
        private boolean causal;
        private int minSeqLength = 128;
        private SelectionMode selection = SelectionMode.TARGET_SPARSITY;
        private double epsilon = 0.01;
        private Set<Integer> denseLayers = Set.of();
        private GqaPolicy gqaPolicy = GqaPolicy.SHARED_MAX;
        private RadarScore radarScore = RadarScore.QUANTIZED_BOX;
        private double shrinkFactor = 0.5;
        private KvDtype kvDtype = KvDtype.FP16;
        private GroupCombine groupCombine = GroupCombine.SOFTMAX_SUM;
        private LayerBudgets layerBudgets = LayerBudgets.CALIBRATED;
        private double rerankFactor = 2;
        private Set<Integer> rerankLayers = Set.of();
        private double rerankShare = 0.2;
        private int minKeptTokens = 768;
        private int reselectInterval = 8;

        private Builder() {}

        public Builder blockSize(int v) { blockSize = v; return this; }
        public Builder threshold(double v) { threshold = v; return this; }
        public Builder thresholdMode(ThresholdMode v) { thresholdMode = v; return this; }
        public Builder targetSparsity(double v) { targetSparsity = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder localWindow(int v) { localWindow = v; return this; }
        public Builder sinkBlocks(int v) { sinkBlocks = v; return this; }
        public Builder recencyDecay(double v) { recencyDecay = v; return this; }
        public Builder recencyBonus(double v) { recencyBonus = v; return this; }
        public Builder useVariance(boolean v) { useVariance = v; return this; }
        public Builder useConcentration(boolean v) { useConcentration = v; return this; }
        public Builder causal(boolean v) { causal = v; return this; }
        public Builder minSeqLength(int v) { minSeqLength = v; return this; }
        public Builder selection(SelectionMode v) { selection = v; return this; }
        public Builder epsilon(double v) { epsilon = v; return this; }
        public Builder denseLayers(Set<Integer> v) { denseLayers = v; return this; }
        public Builder denseLayers(int... layers) {
            TreeSet<Integer> set = new TreeSet<>();
            for (int layer : layers) set.add(layer);
            denseLayers = set;
            return this;
        }
        public Builder gqaPolicy(GqaPolicy v) { gqaPolicy = v; return this; }
        public Builder radarScore(RadarScore v) { radarScore = v; return this; }
        public Builder shrinkFactor(double v) { shrinkFactor = v; return this; }
        public Builder kvDtype(KvDtype v) { kvDtype = v; return this; }
        public Builder groupCombine(GroupCombine v) { groupCombine = v; return this; }
        public Builder layerBudgets(LayerBudgets v) { layerBudgets = v; return this; }
        public Builder rerankFactor(double v) { rerankFactor = v; return this; }
        public Builder rerankLayers(Set<Integer> v) { rerankLayers = v; return this; }
        public Builder rerankShare(double v) { rerankShare = v; return this; }
        public Builder minKeptTokens(int v) { minKeptTokens = v; return this; }
        public Builder reselectInterval(int v) { reselectInterval = v; return this; }

        public AetherConfig build() {
            return new AetherConfig(blockSize, threshold, thresholdMode, targetSparsity, topK, localWindow, sinkBlocks,
                    recencyDecay, recencyBonus, useVariance, useConcentration, causal, minSeqLength, selection, epsilon,
                    denseLayers, gqaPolicy, radarScore, shrinkFactor, kvDtype, groupCombine, layerBudgets, rerankFactor, rerankLayers, rerankShare,
                    minKeptTokens, reselectInterval);
        }
    }
}
