package ai.aether.attention;

import ai.aether.kernels.ops.Lanes;
import ai.aether.kernels.attention.ExactBlockMass;
import ai.aether.kernels.attention.KvBlockPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Selection (SPEC 1.4): which blocks of one KV head a group of query rows reads. Sinks, the local
 * window (narrowed under TARGET_SPARSITY when the budget is small, {@link #localWindow}), the newest block and every block scoring +infinity (no metadata yet, or keys beyond the
 * quantised grid) are always kept; below {@code minSeqLength} tokens, and in dense layers, everything
 * is kept. With several rows (a GQA group sharing a selection) TOP_K and TARGET_SPARSITY rank blocks
 * by the rows' scores combined per {@link AetherConfig#groupCombine()} (MAX, or SOFTMAX_SUM: summed
 * per-row softmax shares); THRESHOLD and CERTIFIED decide per row (a mean would break the bound).
 *
 * <p>One instance per thread: it owns its scratch arrays.
 */
public final class BlockSelector {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private final AetherConfig config;
    private final EventRadar radar;
    private float[] scores = new float[0];      // [rows][blocks] radar scores
    private float[] groupScore = new float[0];  // [blocks] rows combined (groupCombine; THRESHOLD ABSOLUTE: max)
    private float[] shares = new float[0];      // [blocks] one row's exp(s - max), SOFTMAX_SUM
    private boolean[] forced = new boolean[0];  // [blocks]
    private float[] sortScratch = new float[0];
    private long[] order = new long[0];
    private float[] keyRow = new float[0];
    private double[] logitScratch = new double[0];  // [rows][blockSize] exact logits of one block (CERTIFIED, ORACLE, rerank)
    private boolean[] shortlist = new boolean[0];   // [blocks] the radar's candidates a rerank reads
    private int reranked;                           // blocks the latest selection's rerank read the keys of
    private boolean[] partial = new boolean[0];     // [blocks] shortlisted blocks not full (scored in float64)
    private boolean deferRerank;                    // leave a rerank's exact masses to the caller (finishRerank)
    private int pendingK = -1;                      // k of a deferred rerank waiting for its masses, else -1
    private int pendingCount, pendingRows;
    private int[] pendingIds;                       // the block ids of the pending selection
    private BlockMetadataStore pendingMetadata;
    private int[] shortlisted = new int[0];         // [shortlisted] block indices whose masses a deferred rerank needs
    private int shortlistedCount;
    private float[] rerankLogits = new float[0];    // [shortlisted][rows][blockSize] the candidates' logits, for the attention

    public BlockSelector(AetherConfig config) {
        this.config = config;
        this.radar = new EventRadar(config);
    }

    public EventRadar radar() { return radar; }

    /** What one selection did; {@code reranked}: blocks whose keys a rerank read to rank them. */
    public record Outcome(int blocks, int kept, int scored, int reranked, double certifiedDroppedMass) {}

    /**
     * Selects blocks for rows {@code [rowOffset, rowOffset + rows*headDim)} of {@code queries}.
     *
     * @param blockIds  the KV head's blocks in position order ({@code [count]} used)
     * @param count     blocks of the sequence, >= 1
     * @param length    tokens in the sequence
     * @param dense     true to keep everything (dense layer or a short sequence)
     * @param keep      {@code [count]} output: which blocks to read
     * @param scoresOut {@code [rows][count]} radar scores, or null
     */
    public Outcome select(AetherKvPool pool, int[] blockIds, int count, int length, float[] queries, int rowOffset, int rows,
                          boolean dense, boolean[] keep, float[] scoresOut) {
        boolean rerank = config.reranks(0) && config.rerankLayers().isEmpty();  // no layer here: only an every-layer rerank applies
        return select(pool, blockIds, count, length, queries, rowOffset, rows, dense, 1.0, rerank, keep, scoresOut);
    }

    /**
     * {@link #select(AetherKvPool, int[], int, int, float[], int, int, boolean, boolean[], float[])} with the
     * TARGET_SPARSITY block budget scaled by {@code budgetScale} (a layer's share from {@link LayerBudgetCalibration};
     * 1 = the uniform {@code ceil((1 - targetSparsity) * count)}; other selections ignore it), and with
     * {@code rerank} (this layer is one of {@link AetherConfig#reranks}) TOP_K and TARGET_SPARSITY keep
     * the blocks of largest exact mass among the radar's best {@code ceil(rerankFactor * k)}. Returns
     * null when a rerank is left to the caller ({@link #deferRerank}; then {@link #finishRerank} gives the outcome).
     */
    public Outcome select(AetherKvPool pool, int[] blockIds, int count, int length, float[] queries, int rowOffset, int rows,
                          boolean dense, double budgetScale, boolean rerank, boolean[] keep, float[] scoresOut) {
        BlockMetadataStore metadata = pool.metadata();
        int dim = metadata.headDim();
        if (dense || length < config.minSeqLength()) {
            Arrays.fill(keep, 0, count, true);
            if (scoresOut != null) scoreAll(pool, blockIds, count, queries, rowOffset, rows, dim, scoresOut);
            return new Outcome(count, count, 0, 0, Double.NaN);
        }
        ensure(rows, count, dim);
        scoreAll(pool, blockIds, count, queries, rowOffset, rows, dim, scores);
        if (scoresOut != null) System.arraycopy(scores, 0, scoresOut, 0, rows * count);
        int budget = budget(count, budgetScale);  // the window follows the uniform budget: every layer forces the same blocks
        int forcedCount = markForced(metadata, blockIds, count, rows, budget(count, 1.0));
        int candidates = count - forcedCount;
        for (int i = 0; i < count; i++) keep[i] = forced[i];
        combineRows(rows, count);
        double bound = Double.NaN;
        reranked = 0;
        pendingK = -1;
        switch (config.selection()) {
            case TOP_K -> keepRanked(pool, blockIds, count, queries, rowOffset, rows, Math.min(config.topK(), candidates), candidates, rerank, keep);
            case TARGET_SPARSITY -> keepRanked(pool, blockIds, count, queries, rowOffset, rows, Math.clamp(budget - forcedCount, 0, candidates),
                    candidates, rerank, keep);
            case THRESHOLD -> {
                if (config.thresholdMode() == ThresholdMode.ABSOLUTE) {
                    for (int i = 0; i < count; i++) if (!forced[i] && groupScore[i] > config.threshold()) keep[i] = true;
                } else {
                    keepByMassShare(metadata, blockIds, count, rows, keep);
                }
            }
            case CERTIFIED -> bound = dropCertified(pool, blockIds, count, length, queries, rowOffset, rows, keep);
        }
        if (pendingK >= 0) {
            pendingIds = blockIds;
            pendingMetadata = metadata;
            return null;
        }
        return outcome(metadata, blockIds, count, keep, bound);
    }

    private Outcome outcome(BlockMetadataStore metadata, int[] blockIds, int count, boolean[] keep, double bound) {
        int kept = 0;
        for (int i = 0; i < count; i++) if (keep[i]) kept++;
        int scored = 0;
        for (int i = 0; i < count; i++) if (metadata.hasMetadata(blockIds[i])) scored++;
        return new Outcome(count, kept, scored, reranked, bound);
    }

    /**
     * From now on a selection that reranks stops before reading keys: {@link #select} returns null, the
     * caller computes the exact log masses of {@link #rerankCandidates} into {@link #rerankScores} (so
     * that the key reads of several selections can be shared out over threads evenly) and calls
     * {@link #finishRerank}.
     */
    public void deferRerank(boolean defer) {
        this.deferRerank = defer;
    }

    /** Whether the latest {@link #select} left a rerank for the caller. */
    public boolean rerankPending() { return pendingK >= 0; }

    /** Indices into the selection's block list (ascending) of the full blocks whose exact masses a pending rerank needs. */
    public int[] rerankCandidates() { return shortlisted; }

    /** How many entries of {@link #rerankCandidates} are in use. */
    public int rerankCandidateCount() { return shortlistedCount; }

    /**
     * Where the caller may put the logits of a pending rerank's candidates, {@code [candidate][rows][blockSize]}
     * (sized for the latest selection), so that the attention need not compute them again.
     */
    public float[] rerankLogits() { return rerankLogits; }

    /** Where a pending rerank's masses go: row r of block index i at {@code [r * blockCount + i]} (the caller writes the candidates' entries). */
    public float[] rerankScores() { return scores; }

    /** Finishes a pending rerank once its masses are in {@link #rerankScores}: fills {@code keep} as {@link #select} would have. */
    public Outcome finishRerank(boolean[] keep) {
        if (pendingK < 0) throw new IllegalStateException("no rerank is pending");
        int k = pendingK;
        pendingK = -1;
        finishRanked(pendingCount, pendingRows, k, keep);
        return outcome(pendingMetadata, pendingIds, pendingCount, keep, Double.NaN);
    }

    /**
     * Marks the always-kept blocks in {@code forced} (sinks, window, newest, unscored) and returns how many;
     * {@code uniformBudget} sets the sinks and window under TARGET_SPARSITY (every layer forces the same blocks).
     */
    private int markForced(BlockMetadataStore metadata, int[] blockIds, int count, int rows, int uniformBudget) {
        int sinks = sinkBlocks(uniformBudget), window = localWindow(uniformBudget);
        int forcedCount = 0;
        for (int i = 0; i < count; i++) {
            boolean unscored = false;
            for (int r = 0; r < rows && !unscored; r++) unscored = !Float.isFinite(scores[r * count + i]);
            forced[i] = i < sinks || i >= count - window || i == count - 1
                    || !metadata.hasMetadata(blockIds[i]) || unscored;
            if (forced[i]) forcedCount++;
        }
        return forcedCount;
    }

    /** {@code groupScore} from the rows' {@code scores}: softmax-sum for the ranking selections when configured, else max. */
    private void combineRows(int rows, int count) {
        boolean ranking = config.selection() == SelectionMode.TOP_K || config.selection() == SelectionMode.TARGET_SPARSITY;
        if (ranking && config.groupCombine() == GroupCombine.SOFTMAX_SUM && rows > 1) {
            softmaxSum(scores, rows, count, groupScore, shares);
        } else {
            maxOverRows(scores, rows, count, groupScore);
        }
    }

    /**
     * The order TOP_K and TARGET_SPARSITY choose blocks in: {@code out[i]} ({@code [count]}) is block i's
     * combined group score, +infinity for the blocks always kept; returns how many those are. Keeping
     * the k blocks with the largest values is the selection at budget k (ties aside).
     */
    public int rankingScores(AetherKvPool pool, int[] blockIds, int count, float[] queries, int rowOffset, int rows, float[] out) {
        BlockMetadataStore metadata = pool.metadata();
        ensure(rows, count, metadata.headDim());
        scoreAll(pool, blockIds, count, queries, rowOffset, rows, metadata.headDim(), scores);
        int forcedCount = markForced(metadata, blockIds, count, rows, budget(count, 1.0));
        combineRows(rows, count);
        for (int i = 0; i < count; i++) out[i] = forced[i] ? Float.POSITIVE_INFINITY : groupScore[i];
        return forcedCount;
    }

    /**
     * The local window for a TARGET_SPARSITY budget of {@code budget} blocks: {@code localWindow}, except that TARGET_SPARSITY
     * narrows it (to no fewer than the newest block) so that the sinks and the window leave at least
     * half of the block budget to the radar. Without this, at short contexts the forced blocks alone
     * exceed the budget (1K tokens at 80%: 4 blocks, 5 forced) and nothing the query asks for is read.
     */
    int localWindow(int budget) {
        int window = config.localWindow();
        if (config.selection() != SelectionMode.TARGET_SPARSITY || window <= 1) return window;
        return Math.clamp(budget - sinkBlocks(budget) - (budget + 1) / 2, 1, window);
    }

    /**
     * The forced sink blocks for a TARGET_SPARSITY budget of {@code budget} blocks: {@code sinkBlocks}, except when
     * the sinks and the newest block alone would take more than half the budget (budgets of 2-3
     * blocks: 1K tokens at 90%); then fewer, down to none, and the radar ranks the sinks with every other
     * block. At 1K and 90% a forced sink left the radar nothing, and forcing it cost more than it gave:
     * pass-key 0 of 15 keys at depths 25-75% with it, 13 of 15 without; perplexity over 1K windows
     * +89% of dense with it, +71% without (docs/quality.md).
     */
    int sinkBlocks(int budget) {
        int sinks = config.sinkBlocks();
        if (config.selection() != SelectionMode.TARGET_SPARSITY) return sinks;
        return Math.clamp(budget / 2 - 1, 0, sinks);
    }

    /**
     * TARGET_SPARSITY's block budget for {@code count} blocks: {@code ceil(share(count))} at scale 1; a
     * calibrated layer's {@code round(scale * share(count))}, at least 1 (rounding, so that the layers'
     * budgets still add up to the uniform total).
     */
    int budget(int count, double scale) {
        double share = share(count);
        if (scale == 1.0) return (int) Math.ceil(share - 1e-9);
        return (int) Math.clamp(Math.round(scale * share), 1, count);
    }

    /**
     * The uniform budget of {@code count} blocks before rounding: {@code (1 - targetSparsity) * count}, but
     * no fewer than the blocks of {@code minKeptTokens} tokens (and no more than {@code count}).
     */
    double share(int count) {
        double floor = Math.min(count, Math.ceil((double) config.minKeptTokens() / config.blockSize()));
        return Math.max((1 - config.targetSparsity()) * count, floor);
    }

    private void scoreAll(AetherKvPool pool, int[] blockIds, int count, float[] queries, int rowOffset, int rows, int dim, float[] out) {
        if (radar.score() == RadarScore.ORACLE) {
            oracleScores(pool, blockIds, count, queries, rowOffset, rows, out);
            return;
        }
        radar.scoreRows(pool.metadata(), queries, rowOffset, rows, blockIds, count, out);
    }

    /**
     * ORACLE: per row and block, {@code log sum_t exp(q.k_t / sqrt(D))} over the block's stored keys, in
     * float64 ({@code [rows][count]}); blocks without metadata (the open block) get +infinity like every score.
     */
    private void oracleScores(AetherKvPool pool, int[] blockIds, int count, float[] queries, int rowOffset, int rows, float[] out) {
        BlockMetadataStore metadata = pool.metadata();
        for (int i = 0; i < count; i++) {
            int id = blockIds[i];
            if (!metadata.hasMetadata(id)) {
                for (int r = 0; r < rows; r++) out[r * count + i] = Float.POSITIVE_INFINITY;
                continue;
            }
            int tokens = metadata.tokenCount(id);
            double[] logits = blockLogits(pool, id, tokens, queries, rowOffset, rows);
            for (int r = 0; r < rows; r++) out[r * count + i] = (float) logSumExp(logits, r * tokens, tokens);
        }
    }

    /**
     * Exact scaled logits {@code [rows][tokens]} of a block's first {@code tokens} stored keys, in float64
     * (a scratch array, valid until the next call).
     */
    private double[] blockLogits(AetherKvPool pool, int blockId, int tokens, float[] queries, int rowOffset, int rows) {
        KvBlockPool blocks = pool.blocks();
        int dim = pool.headDim();
        double scale = 1.0 / Math.sqrt(dim);
        if (keyRow.length < dim) keyRow = new float[dim];
        if (logitScratch.length < rows * tokens) logitScratch = new double[rows * blocks.blockSize()];
        for (int t = 0; t < tokens; t++) {
            blocks.readKey(blockId, t, keyRow, 0);
            for (int r = 0; r < rows; r++) {
                double dot = 0;
                int q = rowOffset + r * dim;
                for (int d = 0; d < dim; d++) dot += (double) queries[q + d] * keyRow[d];
                logitScratch[r * tokens + t] = dot * scale;
            }
        }
        return logitScratch;
    }

    /** {@code out[i] = max_r scores[r][i]}; scores {@code [rows][count]}. */
    static void maxOverRows(float[] scores, int rows, int count, float[] out) {
        System.arraycopy(scores, 0, out, 0, count);
        for (int r = 1; r < rows; r++) for (int i = 0; i < count; i++) out[i] = Math.max(out[i], scores[r * count + i]);
    }

    /**
     * SOFTMAX_SUM: {@code out[i] = sum_r exp(s_ri - m_r) / sum_k exp(s_rk - m_r)} over the finite scores
     * of each row (m_r their max); a block with a non-finite score in any row gets +infinity (such blocks
     * are forced). The sum of a row's shares is 1, so every row weighs the same whatever its logit scale.
     *
     * @param scores {@code [rows][count]} radar scores
     * @param out    {@code [count]} combined scores
     * @param exps   {@code [count]} scratch
     */
    static void softmaxSum(float[] scores, int rows, int count, float[] out, float[] exps) {
        Arrays.fill(out, 0, count, 0f);
        float[] lanes = new float[SPECIES.length()];
        int bound = SPECIES.loopBound(count);
        for (int r = 0; r < rows; r++) {
            int row = r * count;
            float max = Float.NEGATIVE_INFINITY;
            int i = 0;
            for (; i < bound; i += SPECIES.length()) {
                FloatVector s = FloatVector.fromArray(SPECIES, scores, row + i);
                max = Math.max(max, s.reduceLanes(VectorOperators.MAX, s.test(VectorOperators.IS_FINITE)));
            }
            for (; i < count; i++) if (Float.isFinite(scores[row + i])) max = Math.max(max, scores[row + i]);
            if (max == Float.NEGATIVE_INFINITY) {  // nothing finite in this row: every block is forced
                Arrays.fill(out, 0, count, Float.POSITIVE_INFINITY);
                continue;
            }
            FloatVector sum = FloatVector.zero(SPECIES);
            for (i = 0; i < bound; i += SPECIES.length()) {
                FloatVector s = FloatVector.fromArray(SPECIES, scores, row + i);
                VectorMask<Float> finite = s.test(VectorOperators.IS_FINITE);
                FloatVector e = Lanes.exp(s.sub(max)).blend(0f, finite.not());
                e.intoArray(exps, i);
                sum = sum.add(e);
            }
            sum.intoArray(lanes, 0);  // not Lanes.sum(sum): a vector passed to a call the JIT leaves out of line is boxed
            float z = Lanes.sumOfLanes(lanes, lanes.length);
            for (; i < count; i++) {
                float s = scores[row + i];
                exps[i] = Float.isFinite(s) ? (float) Math.exp(s - max) : 0f;
                z += exps[i];
            }
            FloatVector inverse = FloatVector.broadcast(SPECIES, 1f / z);
            for (i = 0; i < bound; i += SPECIES.length()) {
                VectorMask<Float> unscored = FloatVector.fromArray(SPECIES, scores, row + i).test(VectorOperators.IS_FINITE).not();
                FloatVector.fromArray(SPECIES, exps, i).fma(inverse, FloatVector.fromArray(SPECIES, out, i))
                        .blend(Float.POSITIVE_INFINITY, unscored).intoArray(out, i);
            }
            for (; i < count; i++) out[i] = Float.isFinite(scores[row + i]) ? out[i] + exps[i] / z : Float.POSITIVE_INFINITY;
        }
    }

    private void ensure(int rows, int count, int dim) {
        if (scores.length < rows * count) scores = new float[rows * count];
        if (groupScore.length < count) {
            groupScore = new float[count];
            forced = new boolean[count];
            shares = new float[count];
            sortScratch = new float[count];
            order = new long[count];
        }
        if (keyRow.length < dim) keyRow = new float[dim];
    }

    /**
     * Keeps k of the candidates: the radar's best, or with {@code rerank} the k of largest exact mass
     * among the radar's best {@code ceil(rerankFactor * k)}. Exact mass per row is the block's
     * log-sum-exp of its true logits; the rows combine as the radar's scores do ({@link #combineRows}),
     * over those candidates.
     */
    private void keepRanked(AetherKvPool pool, int[] blockIds, int count, float[] queries, int rowOffset, int rows, int k,
                            int candidates, boolean rerank, boolean[] keep) {
        int wide = rerank ? (int) Math.min(candidates, Math.ceil(config.rerankFactor() * k - 1e-9)) : k;
        if (wide <= k) {
            keepBest(count, k, keep);
            return;
        }
        if (shortlist.length < count) {
            shortlist = new boolean[count];
            partial = new boolean[count];
        }
        Arrays.fill(shortlist, 0, count, false);
        keepBest(count, wide, shortlist);
        reranked = wide;
        // Full blocks through the vectorised kernel; a partial block (only the newest can be one, and it is forced) in float64.
        BlockMetadataStore metadata = pool.metadata();
        for (int i = 0; i < count; i++) {
            int tokens = metadata.tokenCount(blockIds[i]);
            if (!shortlist[i] || tokens == pool.blockSize()) continue;
            shortlist[i] = false;
            double[] logits = blockLogits(pool, blockIds[i], tokens, queries, rowOffset, rows);
            for (int r = 0; r < rows; r++) scores[r * count + i] = (float) logSumExp(logits, r * tokens, tokens);
            partial[i] = true;
        }
        if (deferRerank) {
            if (shortlisted.length < count) shortlisted = new int[count];
            shortlistedCount = 0;
            for (int i = 0; i < count; i++) if (shortlist[i]) shortlisted[shortlistedCount++] = i;
            pendingK = k;
            pendingCount = count;
            pendingRows = rows;
            int logits = shortlistedCount * rows * pool.blockSize();
            if (rerankLogits.length < logits) rerankLogits = new float[Math.max(logits, rerankLogits.length * 3 / 2)];
            return;
        }
        ExactBlockMass.logMasses(pool.blocks(), queries, rowOffset, rows, blockIds, count, shortlist, scores);
        finishRanked(count, rows, k, keep);
    }

    /** The rerank's ranking once the shortlisted full blocks' exact masses are in {@code scores}: keeps the k best. */
    private void finishRanked(int count, int rows, int k, boolean[] keep) {
        for (int i = 0; i < count; i++) {
            if (partial[i]) shortlist[i] = true;
            partial[i] = false;
        }
        for (int i = 0; i < count; i++) {
            if (shortlist[i]) continue;
            for (int r = 0; r < rows; r++) scores[r * count + i] = forced[i] ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
        }
        combineRows(rows, count);
        for (int i = 0; i < count; i++) {
            if (!shortlist[i] && !forced[i]) groupScore[i] = Float.NEGATIVE_INFINITY;
            else if (shortlist[i]) groupScore[i] = coarse(groupScore[i]);
        }
        keepBest(count, k, keep);
    }

    /**
     * {@code v} with its 11 lowest mantissa bits cleared (12 significant bits kept, order preserved
     * weakly). The prompt's KV cache can differ in its last bits from one process to the next (the
     * prefill matmul's lane sums follow the JIT's state, {@code WeightMatrix}), so exact masses that
     * tie to a few ulps would otherwise rank differently from run to run; cleared bits make such
     * near-ties real ties, which {@link #keepBest} breaks by position.
     */
    static float coarse(float v) {
        return Float.isFinite(v) ? Float.intBitsToFloat(Float.floatToRawIntBits(v) & ~0x7FF) : v;
    }

    /** {@code v} with 8 significant bits (the rest of the mantissa cleared): for rankings that must not follow rounding noise. */
    static double coarse8(double v) {
        return Double.isFinite(v) ? Double.longBitsToDouble(Double.doubleToRawLongBits(v) & ~((1L << 45) - 1)) : v;
    }

    private static double logSumExp(double[] values, int from, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int t = 0; t < n; t++) max = Math.max(max, values[from + t]);
        for (int t = 0; t < n; t++) sum += Math.exp(values[from + t] - max);
        return max + Math.log(sum);
    }

    /** Keeps the k non-forced blocks with the highest group score (ties: earliest first). */
    private void keepBest(int count, int k, boolean[] keep) {
        if (k <= 0) return;
        int n = 0;
        for (int i = 0; i < count; i++) if (!forced[i]) sortScratch[n++] = groupScore[i];
        float cut = kthLargest(sortScratch, n, k);
        int above = 0;
        for (int i = 0; i < count; i++) {
            if (!forced[i] && groupScore[i] > cut) {
                keep[i] = true;
                above++;
            }
        }
        for (int i = 0; i < count && above < k; i++) {
            if (!forced[i] && groupScore[i] == cut) {
                keep[i] = true;
                above++;
            }
        }
    }

    /**
     * The k-th largest of {@code values[0..n)} (1 <= k <= n, no NaN), i.e. what an ascending sort puts at
     * index n - k; reorders the values. Quickselect (average O(n)) instead of a sort: selection runs
     * per KV head and decode step.
     */
    static float kthLargest(float[] values, int n, int k) {
        int target = n - k, lo = 0, hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;  // median of three as pivot
            if (values[mid] < values[lo]) swap(values, mid, lo);
            if (values[hi] < values[lo]) swap(values, hi, lo);
            if (values[hi] < values[mid]) swap(values, hi, mid);
            float pivot = values[mid];
            int i = lo, j = hi;
            while (i <= j) {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j) swap(values, i++, j--);
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return values[target];
        }
        return values[target];
    }

    private static void swap(float[] a, int i, int j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /** Keeps a block when, for some row, its estimated attention-mass share reaches the threshold. */
    private void keepByMassShare(BlockMetadataStore metadata, int[] blockIds, int count, int rows, boolean[] keep) {
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < count; i++) {
                float s = scores[r * count + i];
                if (Float.isFinite(s)) max = Math.max(max, s);
            }
            if (max == Double.NEGATIVE_INFINITY) continue;
            double z = 0;
            for (int i = 0; i < count; i++) {
                float s = scores[r * count + i];
                if (Float.isFinite(s)) z += metadata.tokenCount(blockIds[i]) * Math.exp(s - max);
            }
            for (int i = 0; i < count; i++) {
                float s = scores[r * count + i];
                if (!forced[i] && Float.isFinite(s)
                        && metadata.tokenCount(blockIds[i]) * Math.exp(s - max) / z >= config.threshold()) {
                    keep[i] = true;
                }
            }
        }
    }

    /**
     * SPEC 1.3, with the normaliser tightened by the blocks it keeps. Per row, with a fixed
     * reference r (the largest exact logit of the forced blocks) and Z = the sum of exp(l - r)
     * over the exact logits of every block kept so far (a lower bound on the full normaliser), a
     * skipped block b holds at most n_b exp(U_b - r) / Z of the softmax mass, U_b its certified
     * bound. Candidates are ordered by that bound, largest first; the loop keeps the next one
     * (reading its keys, which grows Z) until the bounds of all the rest sum to <= epsilon in
     * every row, and drops those. Keeping the likeliest blocks first is what makes the bound
     * useful: with Z from the sinks and local window alone it rarely lets anything go.
     * Returns the largest row's bound on the dropped mass.
     */
    private double dropCertified(AetherKvPool pool, int[] blockIds, int count, int length, float[] queries, int rowOffset,
                                 int rows, boolean[] keep) {
        BlockMetadataStore metadata = pool.metadata();
        double[] reference = new double[rows], z = new double[rows];
        Arrays.fill(reference, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < count; i++) if (forced[i]) exactLogits(pool, blockIds[i], i, length, queries, rowOffset, rows, reference, null);
        for (int i = 0; i < count; i++) if (forced[i]) exactLogits(pool, blockIds[i], i, length, queries, rowOffset, rows, reference, z);
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (forced[i]) continue;
            double worst = 0;
            for (int r = 0; r < rows; r++) worst = Math.max(worst, contribution(metadata, blockIds[i], scores[r * count + i], reference[r], z[r]));
            float key = (float) worst;
            if (key < worst) key = Math.nextUp(key);
            if (Float.isNaN(key)) key = Float.POSITIVE_INFINITY;
            order[n++] = ((long) Float.floatToRawIntBits(key) << 32) | i;  // non-negative floats order like their bits
        }
        Arrays.sort(order, 0, n);  // ascending: the likeliest block is last
        double[] rest = new double[rows];  // per row: sum over the undecided candidates of n_b exp(U_b - r)
        for (int j = 0; j < n; j++) {
            int i = (int) order[j];
            for (int r = 0; r < rows; r++) rest[r] += contribution(metadata, blockIds[i], scores[r * count + i], reference[r], 1);
        }
        int undecided = n;
        while (true) {
            double worstRow = 0;
            for (int r = 0; r < rows; r++) worstRow = Math.max(worstRow, rest[r] / z[r]);
            if (worstRow <= config.epsilon() || undecided == 0) return undecided == 0 ? 0 : worstRow;
            int i = (int) order[--undecided];
            keep[i] = true;
            exactLogits(pool, blockIds[i], i, length, queries, rowOffset, rows, reference, z);
            rest = recomputeRest(metadata, blockIds, count, undecided, reference, rows, rest);
        }
    }

    /** The undecided candidates' bound sums afresh (subtracting would lose precision when one block dominated). */
    private double[] recomputeRest(BlockMetadataStore metadata, int[] blockIds, int count, int undecided, double[] reference, int rows,
                                   double[] rest) {
        Arrays.fill(rest, 0);
        for (int j = 0; j < undecided; j++) {
            int i = (int) order[j];
            for (int r = 0; r < rows; r++) rest[r] += contribution(metadata, blockIds[i], scores[r * count + i], reference[r], 1);
        }
        return rest;
    }

    /**
     * Exact scaled logits of one block for every row, in float64 from the keys as stored: with
     * {@code z == null} raises {@code reference[r]} to the block's largest logit; otherwise adds
     * exp(logit - reference[r]) to {@code z[r]}.
     */
    private void exactLogits(AetherKvPool pool, int blockId, int block, int length, float[] queries, int rowOffset, int rows,
                             double[] reference, double[] z) {
        int blockSize = pool.blockSize(), tokens = Math.min(blockSize, length - block * blockSize);
        double[] logits = blockLogits(pool, blockId, tokens, queries, rowOffset, rows);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < tokens; t++) {
                double logit = logits[r * tokens + t];
                if (z == null) reference[r] = Math.max(reference[r], logit);
                else z[r] += Math.exp(logit - reference[r]);
            }
        }
    }

    private static double contribution(BlockMetadataStore metadata, int blockId, float bound, double max, double z) {
        return metadata.tokenCount(blockId) * Math.exp(bound - max) / z;
    }
}
