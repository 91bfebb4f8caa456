package ai.aether.model;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.AetherKvPool;
import ai.aether.attention.AttentionStats;
import ai.aether.attention.LayerBudgetCalibration;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.SelectionMode;
import ai.aether.attention.SequenceKvCache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The model's KV cache with AETHER attention: keys and values in a paged block pool with per-block
 * metadata ({@link SequenceKvCache}); prefill attends densely (and builds the metadata of every
 * full block at once); each decode step runs radar, selection and sparse attention per layer,
 * dense below {@code minSeqLength} tokens and in {@code denseLayers} (the selector's rules).
 *
 * <p>Statistics: {@link #lastStep(int)} holds what the latest decode step did in each layer
 * (blocks kept, sparsity, bytes, certified bound); {@link #total()} sums decode steps since
 * {@link #resetStats()}. Not thread-safe, like the model that drives it.
 *
 * <p>Calibrated layer budgets ({@link LayerBudgets#CALIBRATED}): prefill keeps the queries of the
 * last {@link LayerBudgetCalibration#ROWS} prompt positions of every layer; the first decode step under a
 * config calibrates from them (weighted by {@link #setLayerSensitivity} when a probe measured it),
 * and the budgets stay valid (per config) until the cached prompt changes: a new prefill, or a
 * truncate into the prompt.
 */
public final class AetherKvCache implements KvCache {

    private AetherConfig config;
    private final int layers, kvHeads, headDim, capacity, queryHeads;
    private final SequenceKvCache sequence;
    private AetherAttention attention;
    private final java.util.Map<AetherConfig, AetherAttention> attentions = new java.util.HashMap<>();  // reused when switching back
    private final AttentionStats[] stepStats;  // [layers] the latest decode step
    private final AttentionStats[] layerTotals;  // [layers] summed over decode steps since resetStats
    private final AttentionStats total = new AttentionStats();
    private long decodeSteps;
    private final float[][] lastQueries;  // [layers][queryHeads * headDim] queries of the latest decode step, for KV dumps
    private int[] prefillQueryPositions = new int[0];  // [P] ascending prefill positions whose queries are kept, for KV dumps
    private float[][] prefillQueries;                  // [layers][P * queryHeads * headDim] their post-RoPE queries
    private final float[][] calibrationQueries;        // [layers][ROWS * queryHeads * headDim] ring: slot = position % ROWS
    private final int[][] calibrationPositions;        // [layers][ROWS] position held by each slot, -1 if none
    private final Map<AetherConfig, Calibration> calibrations = new HashMap<>();  // per config, for the cached prompt
    private int calibratedLength;                      // the prompt length the calibration rows end at
    private double[] layerSensitivity;                 // [layers] from LayerSensitivityProbe, or null
    private long calibrationNanos;
    private AetherConfig scalesAppliedFor;             // the config whose budget scales the sequence holds; null once void

    public AetherKvCache(ModelConfig model, int capacity, AetherConfig config) {
        this(model, capacity, config, AetherKvPool.forConfig(config, model.headDim(), 0));
    }

    /** A cache whose blocks live in {@code pool} (shared by several sequences; the pool fixes block size and dtype). */
    public AetherKvCache(ModelConfig model, int capacity, AetherConfig config, AetherKvPool pool) {
        if (capacity < 1) throw new IllegalArgumentException("KV cache capacity must be >= 1, got " + capacity);
        if (pool.blockSize() != config.blockSize() || pool.dtype() != config.kvDtype() || pool.headDim() != model.headDim()) {
            throw new IllegalArgumentException("the pool (block " + pool.blockSize() + ", " + pool.dtype() + ", head dim " + pool.headDim()
                    + ") does not match the config (block " + config.blockSize() + ", " + config.kvDtype() + ") and model (head dim "
                    + model.headDim() + ")");
        }
        checkDenseLayers(config, model.layers());
        this.config = config;
        this.layers = model.layers();
        this.kvHeads = model.kvHeads();
        this.headDim = model.headDim();
        this.queryHeads = model.heads();
        this.capacity = capacity;
        this.sequence = pool.newSequence(layers, kvHeads);
        this.attention = new AetherAttention(config, queryHeads, kvHeads, headDim);
        attentions.put(config, attention);
        this.lastQueries = new float[layers][queryHeads * headDim];
        this.calibrationQueries = new float[layers][LayerBudgetCalibration.ROWS * queryHeads * headDim];
        this.calibrationPositions = new int[layers][LayerBudgetCalibration.ROWS];
        for (int[] slots : calibrationPositions) Arrays.fill(slots, -1);
        this.stepStats = new AttentionStats[layers];
        this.layerTotals = new AttentionStats[layers];
        for (int i = 0; i < layers; i++) {
            stepStats[i] = new AttentionStats();
            layerTotals[i] = new AttentionStats();
        }
    }

    public AetherConfig config() { return config; }

    /**
     * Switches the decode attention to {@code next} (same block size and KV dtype: the stored
     * blocks and metadata are reused), or to dense attention over the same blocks when null. This
     * is how an evaluation prefills a prompt once and decodes it under several settings (rewinding
     * with {@link #truncate} in between).
     */
    public void setConfig(AetherConfig next) {
        AetherConfig target = next == null ? config.toBuilder().minSeqLength(1 << 30).build() : next;
        if (target.blockSize() != config.blockSize() || target.kvDtype() != config.kvDtype()) {
            throw new IllegalArgumentException("the new config's block size " + target.blockSize() + " and KV dtype " + target.kvDtype()
                    + " must match the cache's (" + config.blockSize() + ", " + config.kvDtype() + ")");
        }
        checkDenseLayers(target, layers);
        this.config = target;
        sequence.forgetSelections();  // a selection made under the old config must not serve the new one
        this.attention = attentions.computeIfAbsent(target, c -> new AetherAttention(c, queryHeads, kvHeads, headDim));
    }

    private static void checkDenseLayers(AetherConfig config, int layers) {
        for (int layer : config.denseLayers()) {
            if (layer >= layers) {
                throw new IllegalArgumentException("denseLayers entry " + layer + " outside the model's layers [0, " + layers + ")");
            }
        }
    }

    @Override public int layers() { return layers; }
    @Override public int kvHeads() { return kvHeads; }
    @Override public int headDim() { return headDim; }
    @Override public int capacity() { return capacity; }
    @Override public long kvBytes() { return sequence.pool().blocks().allocatedBytes(); }
    @Override public long summaryBytes() { return sequence.pool().metadata().allocatedBytes(); }

    /** Tokens cached in {@code layer}. */
    public int length(int layer) { return sequence.length(layer); }

    /** The attention (its {@code lastPlan()} shows the blocks the latest decode call kept). */
    public AetherAttention attention() { return attention; }

    /** Post-RoPE queries {@code [queryHeads][headDim]} of the latest decode step in {@code layer} (zeros before any). */
    public float[] lastDecodeQueries(int layer) {
        lastStep(layer);
        return lastQueries[layer].clone();
    }

    /**
     * Keeps the post-RoPE queries of these prefill positions (ascending, in [0, capacity)) from
     * now on, for KV dumps; call before the prefill. Costs a copy of {@code positions.length}
     * query rows per layer.
     */
    public void recordPrefillQueries(int[] positions) {
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] < 0 || positions[i] >= capacity || (i > 0 && positions[i] <= positions[i - 1])) {
                throw new IllegalArgumentException("prefill query positions must ascend within [0, " + capacity + "), got "
                        + java.util.Arrays.toString(positions));
            }
        }
        prefillQueryPositions = positions.clone();
        prefillQueries = new float[layers][positions.length * queryHeads * headDim];
    }

    /** The prefill positions whose queries are kept (empty unless {@link #recordPrefillQueries} was called). */
    public int[] recordedPrefillPositions() { return prefillQueryPositions.clone(); }

    /** Kept prefill queries of {@code layer}, {@code [positions][queryHeads][headDim]} (zeros where not yet prefilled). */
    public float[] prefillQueries(int layer) {
        lastStep(layer);
        return prefillQueryPositions.length == 0 ? new float[0] : prefillQueries[layer].clone();
    }

    /**
     * Keys and values of one layer as stored (dtype-rounded), {@code [kvHeads][tokens][headDim]}
     * each, for the first {@code tokens} positions.
     */
    public float[][] readLayer(int layer, int tokens) {
        if (tokens < 0 || tokens > sequence.length(layer)) {
            throw new IllegalArgumentException("layer " + layer + " holds " + sequence.length(layer) + " tokens, asked for " + tokens);
        }
        float[] keys = new float[kvHeads * tokens * headDim], values = new float[keys.length];
        int blockSize = config.blockSize();
        for (int h = 0; h < kvHeads; h++) {
            for (int t = 0; t < tokens; t++) {
                int id = sequence.blockId(layer, h, t / blockSize), at = (h * tokens + t) * headDim;
                sequence.pool().blocks().readKey(id, t % blockSize, keys, at);
                sequence.pool().blocks().readValue(id, t % blockSize, values, at);
            }
        }
        return new float[][] {keys, values};
    }

    /** The underlying block tables (for dumps and inspection). */
    public SequenceKvCache sequence() { return sequence; }

    /** What the latest decode step did in {@code layer} (zero before the first decode step). */
    public AttentionStats lastStep(int layer) {
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer " + layer + " outside [0, " + layers + ")");
        return stepStats[layer];
    }

    /** Sums over the decode steps since {@link #resetStats()} for {@code layer}. */
    public AttentionStats layerTotal(int layer) {
        lastStep(layer);
        return layerTotals[layer];
    }

    /** Sums over every layer of every decode step since {@link #resetStats()}. */
    public AttentionStats total() { return total; }

    /** Decode steps since {@link #resetStats()}. */
    public long decodeSteps() { return decodeSteps; }

    public void resetStats() {
        total.reset();
        decodeSteps = 0;
        for (int i = 0; i < layers; i++) {
            stepStats[i].reset();
            layerTotals[i].reset();
        }
    }

    @Override
    public void write(int layer, int position, int tokens, float[] keys, float[] values) {
        checkRange(layer, position, tokens);
        int length = sequence.length(layer);
        if (position > length) {
            throw new IllegalArgumentException("layer " + layer + ": writing at position " + position + " would leave a gap after the "
                    + length + " cached tokens");
        }
        if (position < length) sequence.truncate(layer, position);
        sequence.append(layer, keys, values, tokens);
    }

    @Override
    public void attend(int layer, int position, int tokens, float[] queries, int heads, float[] out) {
        checkRange(layer, position, tokens);
        if (heads != queryHeads) throw new IllegalArgumentException("attention with " + heads + " query heads; the cache was built for " + queryHeads);
        if (sequence.length(layer) != position + tokens) {
            throw new IllegalStateException("layer " + layer + ": attention for positions [" + position + ", " + (position + tokens)
                    + ") but the cache holds " + sequence.length(layer) + " tokens; write them first");
        }
        if (tokens > 1) {
            keepCalibrationQueries(layer, position, tokens, queries);
            keepPrefillQueries(layer, position, tokens, queries);
            promptChanged(position + tokens);
            attention.prefill(layer, sequence, position, tokens, queries, out);
            return;
        }
        if (layer == 0) {
            decodeSteps++;
            if (scalesAppliedFor != config) {  // once per config and prompt, not per step
                Calibration calibration = calibration();
                sequence.setBudgetScales(calibration.scales());
                sequence.setRerankLayers(calibration.rerank());
                scalesAppliedFor = config;
            }
        }
        System.arraycopy(queries, 0, lastQueries[layer], 0, lastQueries[layer].length);
        AttentionStats step = stepStats[layer];
        step.reset();
        attention.decode(layer, sequence, queries, out, step);
        layerTotals[layer].addAll(step);
        total.addAll(step);
    }

    /** The calibration rows and the prompt length they belong to (a copy), for {@link LayerSensitivityProbe} to put back. */
    record CalibrationRows(float[][] queries, int[][] positions, int length) {}

    CalibrationRows calibrationRows() {
        float[][] q = new float[layers][];
        int[][] p = new int[layers][];
        for (int layer = 0; layer < layers; layer++) {
            q[layer] = calibrationQueries[layer].clone();
            p[layer] = calibrationPositions[layer].clone();
        }
        return new CalibrationRows(q, p, calibratedLength);
    }

    /** Puts back rows taken before a re-decode of the prompt's tail left the same prompt in the cache. */
    void restoreCalibrationRows(CalibrationRows rows) {
        for (int layer = 0; layer < layers; layer++) {
            System.arraycopy(rows.queries()[layer], 0, calibrationQueries[layer], 0, calibrationQueries[layer].length);
            System.arraycopy(rows.positions()[layer], 0, calibrationPositions[layer], 0, calibrationPositions[layer].length);
        }
        calibratedLength = rows.length();
    }

    /** The last ROWS query rows of a prefill (of every layer) stay in the calibration ring. */
    private void keepCalibrationQueries(int layer, int position, int tokens, float[] queries) {
        int row = queryHeads * headDim, rows = LayerBudgetCalibration.ROWS;
        for (int t = Math.max(0, tokens - rows); t < tokens; t++) {
            int slot = (position + t) % rows;
            System.arraycopy(queries, t * row, calibrationQueries[layer], slot * row, row);
            calibrationPositions[layer][slot] = position + t;
        }
    }

    /** A prefill wrote new prompt tokens (or a truncate removed some): calibrations and sensitivities are void. */
    private void promptChanged(int length) {
        calibrations.clear();
        scalesAppliedFor = null;
        layerSensitivity = null;
        calibratedLength = length;
    }

    /**
     * The calibration's error curves under {@code config} from the newest query rows, or null when
     * there are none (or the layers disagree on them: a forward pass stopped part-way).
     */
    public LayerBudgetCalibration.Curves calibrationCurves(AetherConfig config) {
        int[] positions = Arrays.stream(calibrationPositions[0]).filter(p -> p >= 0).sorted().toArray();
        if (positions.length == 0 || !consistentRows(positions)) return null;
        float[][] rows = new float[layers][];
        int row = queryHeads * headDim;
        for (int layer = 0; layer < layers; layer++) {
            rows[layer] = new float[positions.length * row];
            for (int i = 0; i < positions.length; i++) {
                int slot = positions[i] % LayerBudgetCalibration.ROWS;
                System.arraycopy(calibrationQueries[layer], slot * row, rows[layer], i * row, row);
            }
        }
        return LayerBudgetCalibration.errorCurves(config, sequence, rows, positions, queryHeads);
    }

    /**
     * Per-layer sensitivities of the model's output to attention error for the cached prompt
     * ({@link LayerSensitivityProbe}); CALIBRATED budgets weigh each layer's error by them. Void once
     * the prompt changes.
     */
    public void setLayerSensitivity(double[] sensitivity) {
        if (sensitivity != null && sensitivity.length != layers) {
            throw new IllegalArgumentException("layer sensitivity: " + sensitivity.length + " values for " + layers + " layers");
        }
        layerSensitivity = sensitivity == null ? null : sensitivity.clone();
        calibrations.clear();
        scalesAppliedFor = null;
    }

    /** The sensitivities in use, or null. */
    public double[] layerSensitivity() { return layerSensitivity == null ? null : layerSensitivity.clone(); }

    /**
     * What a config's selection uses for the cached prompt: per-layer budget scales (null: uniform)
     * and the layers that rerank (null: the config alone decides).
     */
    private record Calibration(double[] scales, boolean[] rerank, long nanos) {}

    /**
     * This decode step's calibration, computed once per config and prompt: budget scales unless the
     * config asks for UNIFORM budgets (or the prompt left no calibration rows); rerank layers chosen
     * by their measured gain from a better block order when the error curves were measured, else by
     * sensitivity alone.
     */
    private Calibration calibration() {
        Calibration cached = calibrations.get(config);
        if (cached != null) return cached;
        long t0 = System.nanoTime();
        boolean calibrated = config.layerBudgets() == LayerBudgets.CALIBRATED && config.selection() == SelectionMode.TARGET_SPARSITY;
        LayerBudgetCalibration.Curves curves = calibrated ? calibrationCurves(config) : null;
        double[] scales = curves == null ? null : LayerBudgetCalibration.budgets(config, sequence, curves, layerSensitivity);
        boolean[] rerank;
        if (curves != null && layerSensitivity != null) {
            rerank = LayerBudgetCalibration.rerankLayers(config, sequence, curves, scales, layerSensitivity);
        } else {
            rerank = layerSensitivity == null ? null : config.rerankLayersFor(layerSensitivity);
        }
        long spent = System.nanoTime() - t0;
        calibrationNanos += spent;
        Calibration calibration = new Calibration(scales, rerank, spent);
        calibrations.put(config, calibration);
        return calibration;
    }

    /** Every layer holds the same calibration positions (a prefill that stopped part-way through the layers leaves them uneven). */
    private boolean consistentRows(int[] positions) {
        for (int layer = 1; layer < layers; layer++) {
            int[] other = Arrays.stream(calibrationPositions[layer]).filter(p -> p >= 0).sorted().toArray();
            if (!Arrays.equals(other, positions)) return false;
        }
        return true;
    }

    /** Time spent calibrating layer budgets since this cache was made (part of the first decode step after a prefill). */
    public long calibrationNanos() { return calibrationNanos; }

    /**
     * How long the current config's calibration for this prompt took when it ran (in the first decode
     * step after the prefill; later steps and rewinds reuse it); 0 when none has run (dense, or not yet).
     */
    public long currentCalibrationNanos() {
        Calibration c = config == null ? null : calibrations.get(config);
        return c == null ? 0 : c.nanos();
    }

    /** Whether layer {@code layer}'s selection reranked the radar's candidates by exact mass in the latest decode step. */
    public boolean reranks(int layer) { return sequence.reranks(config, layer); }

    /** Layer {@code layer}'s budget scale in the latest decode step (1 when uniform). */
    public double budgetScale(int layer) { return sequence.budgetScale(layer); }

    /** Copies the rows of {@code queries [tokens][queryHeads * headDim]} at recorded positions. */
    private void keepPrefillQueries(int layer, int position, int tokens, float[] queries) {
        int row = queryHeads * headDim;
        for (int i = 0; i < prefillQueryPositions.length; i++) {
            int p = prefillQueryPositions[i];
            if (p >= position && p < position + tokens) System.arraycopy(queries, (p - position) * row, prefillQueries[layer], i * row, row);
        }
    }

    @Override
    public void truncate(int length) {
        KvCache.super.truncate(length);
        for (int layer = 0; layer < layers; layer++) {
            if (sequence.length(layer) > length) sequence.truncate(layer, length);
        }
        for (int[] slots : calibrationPositions) for (int i = 0; i < slots.length; i++) if (slots[i] >= length) slots[i] = -1;
        if (length < calibratedLength) promptChanged(length);  // into the prompt: the calibration saw keys that are gone
    }

    /** Returns the blocks to the pool. */
    public void release() {
        sequence.release();
    }

    private void checkRange(int layer, int position, int tokens) {
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer " + layer + " outside [0, " + layers + ")");
        if (position < 0 || tokens < 1 || (long) position + tokens > capacity) {
            throw new IllegalArgumentException("positions [" + position + ", " + ((long) position + tokens)
                    + ") do not fit the KV cache capacity " + capacity);
        }
    }
}
