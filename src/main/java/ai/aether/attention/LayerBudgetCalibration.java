package ai.aether.attention;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvBlockPool;
import ai.aether.kernels.ops.VectorMath;

import java.util.Arrays;

/**
 * Per-layer block budgets for TARGET_SPARSITY ({@link LayerBudgets#CALIBRATED}), measured on the
 * prompt: the same total number of blocks as uniform budgets, moved to the layers where the radar's
 * choice costs the most.
 *
 * <p>Why: with one budget per layer, the error is concentrated in a few layers (on SmolLM2, layers
 * 7, 8 and 20 hold most of the perplexity lost at 80% sparsity; other layers lose nothing
 * measurable when given fewer blocks). Which layers those are depends on the model and the prompt,
 * so it is measured: for the last {@link #ROWS} prompt positions (their queries are at hand after
 * the prefill, and the next decode queries look like them), every layer and KV head, the exact
 * attention output and the output when only the radar's first k blocks are read
 * ({@link BlockSelector#rankingScores}), for every k. The budgets then go, a block at a time, to the
 * layer whose mean relative output error {@code ||o_k - o|| / ||o||} drops the most for it.
 * Training-free: nothing but the prompt's own queries, keys and values. Cost: one exact attention
 * pass for {@link #ROWS} rows (~1% of an 8K prefill).
 */
public final class LayerBudgetCalibration {

    /** Prompt positions (the last ones) a calibration looks at. */
    public static final int ROWS = 8;
    /** Blocks looked ahead when a layer's error curve is flat for a block or two. */
    private static final int LOOKAHEAD = 4;
    /** How far measured sensitivities are pulled to their geometric mean, log space (see {@link #shrunk}). */
    private static final double SHRINK = 0.5;

    private LayerBudgetCalibration() {}

    /**
     * What a calibration measures: per layer, the mean relative output error of reading the radar's
     * first k blocks ({@code error[layer][k]}, null for layers not calibrated), the same for the k
     * blocks of largest true mass ({@code exactOrderError}: what a rerank approaches), the blocks every
     * selection reads ({@code forced}) and the uniform budget.
     */
    public record Curves(double[][] error, double[][] exactOrderError, int[] forced, int[] uniform) {
        /** Layer {@code layer}'s error at its uniform budget (NaN when not calibrated). */
        public double errorAtUniform(int layer) {
            return error[layer] == null ? Double.NaN : error[layer][Math.min(uniform[layer], error[layer].length - 1)];
        }
    }

    /**
     * Budget scales for {@link SequenceKvCache#setBudgetScales}: 1 for dense layers, layers shorter
     * than {@code minSeqLength} and layers with too few blocks to choose from. Minimises the summed
     * relative output error over the layers.
     *
     * @param queries    {@code [layers][rows][queryHeads][headDim]} post-RoPE queries of the prompt positions
     * @param positions  {@code [rows]} those positions, each below every layer's cached length
     * @param queryHeads query heads (a multiple of the sequence's KV heads)
     */
    public static double[] calibrate(AetherConfig config, SequenceKvCache sequence, float[][] queries, int[] positions, int queryHeads) {
        return budgets(config, sequence, errorCurves(config, sequence, queries, positions, queryHeads), null);
    }

    /**
     * Budget scales from measured curves. With {@code sensitivity} ({@code [layers]}, KL per squared
     * relative error: a model's profile, or a prompt's probe {@link #sensitivities} {@link #shrunk})
     * the budgets minimise the predicted output divergence
     * {@code sum_l sensitivity_l * error_l(k_l)^2}; without, the summed error.
     */
    public static double[] budgets(AetherConfig config, SequenceKvCache sequence, Curves curves, double[] sensitivity) {
        int layers = sequence.layers();
        double[] scales = new double[layers];
        Arrays.fill(scales, 1.0);
        if (sensitivity != null && sensitivity.length != layers) {
            throw new IllegalArgumentException("sensitivity for " + sensitivity.length + " layers, the cache has " + layers);
        }
        double[] weight = sensitivity;
        double[][] cost = new double[layers][];  // [layer][k] what reading k blocks costs, to be minimised
        int[] budget = new int[layers];
        int total = 0, given = 0;
        for (int layer = 0; layer < layers; layer++) {
            double[] e = curves.error()[layer];
            if (e == null) continue;
            cost[layer] = new double[e.length];
            // Coarse values: the curves carry rounding noise from run to run (the prompt's KV cache can differ in
            // its last bits, BlockSelector.coarse), and the allocation below must not follow it.
            for (int k = 0; k < e.length; k++) {
                cost[layer][k] = BlockSelector.coarse8(weight == null ? e[k] : weight[layer] * e[k] * e[k]);
            }
            budget[layer] = Math.max(1, curves.forced()[layer]);
            total += curves.uniform()[layer];
            given += budget[layer];
        }
        if (total == 0 || given > total) return scales;  // nothing to move: every block is forced
        for (int left = total - given; left > 0; left--) {
            int best = -1;
            double bestRate = Double.NEGATIVE_INFINITY;
            for (int layer = 0; layer < layers; layer++) {
                if (cost[layer] == null || budget[layer] >= cost[layer].length - 1) continue;
                double[] c = cost[layer];
                int b = budget[layer];
                for (int j = 1; j <= LOOKAHEAD && b + j < c.length; j++) {
                    double rate = (c[b] - c[b + j]) / j;
                    if (rate > bestRate) {
                        bestRate = rate;
                        best = layer;
                    }
                }
            }
            if (best < 0) break;
            budget[best]++;
        }
        BlockSelector selector = new BlockSelector(config);
        for (int layer = 0; layer < layers; layer++) {
            if (cost[layer] != null) scales[layer] = budget[layer] / selector.share(sequence.blockCount(layer));
        }
        return scales;
    }

    /**
     * Sensitivities half-way (in log space) to their geometric mean. Measured on a few tokens they
     * vary 10-100x between prompts for the same layer; taken as they are, the budgets follow that
     * noise (perplexity at 80% sparsity +2.1% vs +1.5% shrunk, docs/quality.md).
     */
    public static double[] shrunk(double[] sensitivity) {
        double logSum = 0;
        int positive = 0;
        for (double v : sensitivity) {
            if (v > 0) {
                logSum += Math.log(v);
                positive++;
            }
        }
        if (positive == 0) return sensitivity.clone();
        double logMean = logSum / positive;
        double[] out = new double[sensitivity.length];
        for (int i = 0; i < out.length; i++) {
            double log = sensitivity[i] > 0 ? Math.log(sensitivity[i]) : logMean - 10 * Math.log(10);  // unmeasured: negligible
            out[i] = Math.exp((1 - SHRINK) * log + SHRINK * logMean);
        }
        return out;
    }

    /**
     * Sensitivities for {@link #budgets}: a layer's measured output divergence at its uniform budget
     * ({@code divergence[layer]}, e.g. the KL of the model's next-token distribution when only that
     * layer is sparse) per squared relative error there; 0 where either is not measured.
     */
    public static double[] sensitivities(Curves curves, double[] divergence) {
        double[] s = new double[divergence.length];
        for (int layer = 0; layer < s.length; layer++) {
            double e = curves.errorAtUniform(layer);
            s[layer] = Double.isFinite(e) && e > 1e-9 && Double.isFinite(divergence[layer]) ? Math.max(0, divergence[layer]) / (e * e) : 0;
        }
        return s;
    }

    /** The error curves of every layer for the given prompt rows (the measuring half of {@link #calibrate}). */
    public static Curves errorCurves(AetherConfig config, SequenceKvCache sequence, float[][] queries, int[] positions, int queryHeads) {
        if (config.selection() != SelectionMode.TARGET_SPARSITY) {
            throw new IllegalArgumentException("layer budgets are calibrated for TARGET_SPARSITY selection, not " + config.selection());
        }
        int layers = sequence.layers(), kvHeads = sequence.kvHeads(), dim = sequence.pool().headDim(), rows = positions.length;
        if (queryHeads < 1 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads (" + queryHeads + ") must be a positive multiple of kvHeads (" + kvHeads + ")");
        }
        if (queries.length != layers) throw new IllegalArgumentException("queries for " + queries.length + " layers, the cache has " + layers);
        for (int layer = 0; layer < layers; layer++) {
            if (queries[layer] == null || queries[layer].length != rows * queryHeads * dim) {
                throw new IllegalArgumentException("layer " + layer + ": queries must be [rows=" + rows + "][queryHeads=" + queryHeads
                        + "][headDim=" + dim + "], got " + (queries[layer] == null ? "null" : queries[layer].length + " floats"));
            }
            for (int p : positions) {
                if (p < 0 || p >= sequence.length(layer)) {
                    throw new IllegalArgumentException("calibration position " + p + " outside layer " + layer + "'s cache [0, " + sequence.length(layer) + ")");
                }
            }
        }
        double[][] curves = new double[layers * kvHeads][];  // [layer * kvHeads + head][k] mean relative error reading k blocks
        double[][] exactCurves = new double[layers * kvHeads][];  // the same, blocks in order of true mass
        int[] forcedPerHead = new int[layers * kvHeads];
        Parallel.forEach(layers * kvHeads, task -> {
            int layer = task / kvHeads;
            if (!calibrates(config, sequence, layer)) return;
            forcedPerHead[task] = errorCurve(config, sequence, layer, task % kvHeads, queries[layer], positions, queryHeads, curves,
                    exactCurves, task);
        });
        BlockSelector selector = new BlockSelector(config);
        double[][] error = new double[layers][], exactError = new double[layers][];
        int[] forced = new int[layers], uniform = new int[layers];
        for (int layer = 0; layer < layers; layer++) {
            if (curves[layer * kvHeads] == null) continue;
            int count = sequence.blockCount(layer);
            error[layer] = new double[count + 1];
            exactError[layer] = new double[count + 1];
            for (int h = 0; h < kvHeads; h++) {
                for (int k = 0; k <= count; k++) {
                    error[layer][k] += curves[layer * kvHeads + h][k] / kvHeads;
                    exactError[layer][k] += exactCurves[layer * kvHeads + h][k] / kvHeads;
                }
                forced[layer] = Math.max(forced[layer], forcedPerHead[layer * kvHeads + h]);
            }
            uniform[layer] = selector.budget(count, 1.0);
        }
        return new Curves(error, exactError, forced, uniform);
    }

    private static boolean calibrates(AetherConfig config, SequenceKvCache sequence, int layer) {
        return !config.isDenseLayer(layer) && sequence.length(layer) >= config.minSeqLength() && sequence.blockCount(layer) >= 2;
    }

    /**
     * Fills {@code curves[slot]} ({@code [blocks + 1]}) with the relative output error, averaged over the
     * rows and the KV head's query heads, of reading the first k blocks of the radar's order, and
     * {@code exactCurves[slot]} with the same for the forced blocks then the others by true mass (the
     * group's per-row shares summed, as SOFTMAX_SUM combines the radar's); returns the number of forced
     * blocks (read whatever the budget).
     */
    private static int errorCurve(AetherConfig config, SequenceKvCache sequence, int layer, int kvHead, float[] queries, int[] positions,
                                  int queryHeads, double[][] curves, double[][] exactCurves, int slot) {
        KvBlockPool blocks = sequence.pool().blocks();
        int dim = blocks.headDim(), blockSize = blocks.blockSize(), count = sequence.blockCount(layer), length = sequence.length(layer);
        int group = queryHeads / sequence.kvHeads();
        int[] ids = sequence.blockIdsView(layer, kvHead);
        float[] keys = new float[length * dim], values = new float[length * dim];  // [tokens][headDim]
        for (int t = 0; t < length; t++) {
            blocks.readKey(ids[t / blockSize], t % blockSize, keys, t * dim);
            blocks.readValue(ids[t / blockSize], t % blockSize, values, t * dim);
        }
        BlockSelector selector = new BlockSelector(config);
        float[] rank = new float[count];
        double[] curve = new double[count + 1], exactCurve = new double[count + 1];
        double[][] mass = new double[group][count], weighted = new double[group][count * dim], dense = new double[group][dim];
        double[] norm = new double[group], logits = new double[length], share = new double[count];
        double scale = 1.0 / Math.sqrt(dim);
        int forced = 0, samples = 0;
        for (int row = 0; row < positions.length; row++) {
            int position = positions[row], rowBase = (row * queryHeads + kvHead * group) * dim;
            forced = selector.rankingScores(sequence.pool(), ids, count, queries, rowBase, group, rank);
            Arrays.fill(share, 0);
            for (int r = 0; r < group; r++) {
                int q = rowBase + r * dim;
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t <= position; t++) {
                    logits[t] = (double) VectorMath.dot(queries, q, keys, t * dim, dim) * scale;
                    max = Math.max(max, logits[t]);
                }
                Arrays.fill(mass[r], 0);
                Arrays.fill(weighted[r], 0);
                double z = 0;
                for (int t = 0; t <= position; t++) {
                    double w = Math.exp(logits[t] - max);
                    z += w;
                    int b = t / blockSize;
                    mass[r][b] += w;
                    for (int d = 0; d < dim; d++) weighted[r][b * dim + d] += w * values[t * dim + d];
                }
                Arrays.fill(dense[r], 0);
                for (int b = 0; b < count; b++) for (int d = 0; d < dim; d++) dense[r][d] += weighted[r][b * dim + d] / z;
                norm[r] = Math.sqrt(sumOfSquares(dense[r]));
                for (int b = 0; b < count; b++) share[b] += mass[r][b] / z;
            }
            Integer[] radarOrder = new Integer[count], exactOrder = new Integer[count];
            for (int i = 0; i < count; i++) radarOrder[i] = exactOrder[i] = i;
            Arrays.sort(radarOrder, (a, b) -> Float.compare(rank[b], rank[a]));  // forced (+inf) first, then by score
            Arrays.sort(exactOrder, (a, b) -> {                                  // forced first, then by true share
                boolean fa = rank[a] == Float.POSITIVE_INFINITY, fb = rank[b] == Float.POSITIVE_INFINITY;
                return fa != fb ? (fa ? -1 : 1) : Double.compare(share[b], share[a]);
            });
            for (int r = 0; r < group; r++) {
                if (norm[r] == 0) continue;
                accumulate(radarOrder, mass[r], weighted[r], dense[r], norm[r], count, dim, curve);
                accumulate(exactOrder, mass[r], weighted[r], dense[r], norm[r], count, dim, exactCurve);
                samples++;
            }
        }
        if (samples > 0) {
            for (int k = 0; k <= count; k++) {
                curve[k] /= samples;
                exactCurve[k] /= samples;
            }
        }
        curves[slot] = curve;
        exactCurves[slot] = exactCurve;
        return forced;
    }

    /** Adds one row's relative error of reading the first k blocks of {@code order}, for every k, to {@code curve}. */
    private static void accumulate(Integer[] order, double[] mass, double[] weighted, double[] dense, double norm, int count, int dim,
                                   double[] curve) {
        double[] partial = new double[dim];
        double kept = 0;
        for (int k = 0; k < count; k++) {
            int b = order[k];
            kept += mass[b];
            for (int d = 0; d < dim; d++) partial[d] += weighted[b * dim + d];
            double err = 0;
            if (kept > 0) {
                for (int d = 0; d < dim; d++) {
                    double diff = partial[d] / kept - dense[d];
                    err += diff * diff;
                }
            } else {
                err = norm * norm;
            }
            curve[k + 1] += Math.sqrt(err) / norm;
        }
        curve[0] += 1;
    }

    /**
     * The layers that rerank: the {@code ceil(rerankShare * layers)} where a better order is worth the
     * most, {@code sensitivity_l * (error_l(k_l)^2 - exactOrderError_l(k_l)^2)} at the layer's budget
     * k_l (its {@code scales}, 1 = uniform): sensitive layers whose radar order loses to the true one.
     * Null when the config names its layers, reranks everywhere or not at all (then
     * {@link AetherConfig#reranks} decides).
     */
    public static boolean[] rerankLayers(AetherConfig config, SequenceKvCache sequence, Curves curves, double[] scales, double[] sensitivity) {
        if (config.rerankFactor() <= 1 || !config.rerankLayers().isEmpty() || config.rerankShare() >= 1) return null;
        int layers = sequence.layers();
        double[] gain = new double[layers];
        BlockSelector selector = new BlockSelector(config);
        for (int layer = 0; layer < layers; layer++) {
            double[] e = curves.error()[layer], x = curves.exactOrderError()[layer];
            if (e == null || x == null) {
                gain[layer] = Double.NEGATIVE_INFINITY;
                continue;
            }
            int k = Math.min(e.length - 1, selector.budget(sequence.blockCount(layer), scales == null ? 1.0 : scales[layer]));
            double weight = sensitivity == null ? 1.0 : sensitivity[layer];
            gain[layer] = BlockSelector.coarse8(weight * (e[k] * e[k] - x[k] * x[k]));  // coarse: see budgets()
        }
        boolean[] chosen = config.rerankLayersFor(gain);
        for (int layer = 0; layer < layers; layer++) chosen[layer] &= gain[layer] > 0;  // no gain (e.g. every block kept): no rerank
        return chosen;
    }

    private static double sumOfSquares(double[] x) {
        double s = 0;
        for (double v : x) s += v * v;
        return s;
    }
}
