package ai.aether.attention;

import ai.aether.kernels.attention.KvBlockPool;

import java.util.Arrays;

/**
 * Selection (SPEC 1.4): which blocks of one KV head a group of query rows reads. Sinks, the local
 * window and the newest block are always kept; below {@code minSeqLength} tokens, and in dense
 * layers, everything is kept. With several rows (a GQA group sharing a selection) a block's
 * potential is the MAX over the rows (a mean would break the bound).
 *
 * <p>One instance per thread: it owns its scratch arrays.
 */
public final class BlockSelector {

    private final AetherConfig config;
    private final EventRadar radar;
    private float[] scores = new float[0];      // [rows][blocks] radar scores
    private float[] groupScore = new float[0];  // [blocks] max over rows
    private boolean[] forced = new boolean[0];  // [blocks]
    private float[] sortScratch = new float[0];
    private long[] order = new long[0];
    private float[] keyRow = new float[0];

    public BlockSelector(AetherConfig config) {
        this.config = config;
        this.radar = new EventRadar(config);
    }

    public EventRadar radar() { return radar; }

    /** What one selection did. */
    public record Outcome(int blocks, int kept, int scored, double certifiedDroppedMass) {}

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
        BlockMetadataStore metadata = pool.metadata();
        int dim = metadata.headDim();
        if (dense || length < config.minSeqLength()) {
            Arrays.fill(keep, 0, count, true);
            if (scoresOut != null) scoreAll(metadata, blockIds, count, queries, rowOffset, rows, dim, scoresOut);
            return new Outcome(count, count, 0, Double.NaN);
        }
        ensure(rows, count, dim);
        scoreAll(metadata, blockIds, count, queries, rowOffset, rows, dim, scores);
        if (scoresOut != null) System.arraycopy(scores, 0, scoresOut, 0, rows * count);
        int forcedCount = 0, candidates = 0;
        for (int i = 0; i < count; i++) {
            forced[i] = i < config.sinkBlocks() || i >= count - config.localWindow() || i == count - 1
                    || !metadata.hasMetadata(blockIds[i]);
            keep[i] = forced[i];
            if (forced[i]) forcedCount++; else candidates++;
            float g = Float.NEGATIVE_INFINITY;
            for (int r = 0; r < rows; r++) g = Math.max(g, scores[r * count + i]);
            groupScore[i] = g;
        }
        double bound = Double.NaN;
        switch (config.selection()) {
            case TOP_K -> keepBest(count, Math.min(config.topK(), candidates), keep);
            case TARGET_SPARSITY -> {
                int budget = (int) Math.ceil((1 - config.targetSparsity()) * count - 1e-9);
                keepBest(count, Math.clamp(budget - forcedCount, 0, candidates), keep);
            }
            case THRESHOLD -> {
                if (config.thresholdMode() == ThresholdMode.ABSOLUTE) {
                    for (int i = 0; i < count; i++) if (!forced[i] && groupScore[i] > config.threshold()) keep[i] = true;
                } else {
                    keepByMassShare(metadata, blockIds, count, rows, keep);
                }
            }
            case CERTIFIED -> bound = dropCertified(pool, blockIds, count, length, queries, rowOffset, rows, keep);
        }
        int kept = 0;
        for (int i = 0; i < count; i++) if (keep[i]) kept++;
        int scored = 0;
        for (int i = 0; i < count; i++) if (metadata.hasMetadata(blockIds[i])) scored++;
        return new Outcome(count, kept, scored, bound);
    }

    private void scoreAll(BlockMetadataStore metadata, int[] blockIds, int count, float[] queries, int rowOffset, int rows,
                          int dim, float[] out) {
        for (int r = 0; r < rows; r++) radar.scoreBlocks(metadata, queries, rowOffset + r * dim, blockIds, count, out, r * count);
    }

    private void ensure(int rows, int count, int dim) {
        if (scores.length < rows * count) scores = new float[rows * count];
        if (groupScore.length < count) {
            groupScore = new float[count];
            forced = new boolean[count];
            sortScratch = new float[count];
            order = new long[count];
        }
        if (keyRow.length < dim) keyRow = new float[dim];
    }

    /** Keeps the k non-forced blocks with the highest group score (ties: earliest first). */
    private void keepBest(int count, int k, boolean[] keep) {
        if (k <= 0) return;
        int n = 0;
        for (int i = 0; i < count; i++) if (!forced[i]) sortScratch[n++] = groupScore[i];
        Arrays.sort(sortScratch, 0, n);
        float cut = sortScratch[n - k];
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
     * SPEC 1.3. Exact logits of the forced blocks give, per row, a running max m and normaliser Z
     * (a lower bound on the full normaliser at reference m). A skipped block b holds at most
     * n_b exp(U_b - m) / Z of the mass; blocks are dropped in increasing order of that bound
     * (max over rows) while every row's dropped sum stays <= epsilon. Returns the largest row sum.
     */
    private double dropCertified(AetherKvPool pool, int[] blockIds, int count, int length, float[] queries, int rowOffset,
                                 int rows, boolean[] keep) {
        KvBlockPool blocks = pool.blocks();
        BlockMetadataStore metadata = pool.metadata();
        int dim = metadata.headDim(), blockSize = blocks.blockSize();
        double scale = 1.0 / Math.sqrt(dim);
        double[] max = new double[rows], z = new double[rows];
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        for (int pass = 0; pass < 2; pass++) {  // pass 0: max, pass 1: normaliser
            for (int i = 0; i < count; i++) {
                if (!forced[i]) continue;
                int tokens = Math.min(blockSize, length - i * blockSize);
                for (int t = 0; t < tokens; t++) {
                    blocks.readKey(blockIds[i], t, keyRow, 0);
                    for (int r = 0; r < rows; r++) {
                        double logit = 0;
                        int q = rowOffset + r * dim;
                        for (int d = 0; d < dim; d++) logit += (double) queries[q + d] * keyRow[d];
                        logit *= scale;
                        if (pass == 0) max[r] = Math.max(max[r], logit);
                        else z[r] += Math.exp(logit - max[r]);
                    }
                }
            }
        }
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (forced[i]) continue;
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                worst = Math.max(worst, metadata.tokenCount(blockIds[i]) * Math.exp(scores[r * count + i] - max[r]) / z[r]);
            }
            float key = (float) worst;
            if (key < worst) key = Math.nextUp(key);
            if (Float.isNaN(key)) key = Float.POSITIVE_INFINITY;
            order[n++] = ((long) Float.floatToRawIntBits(key) << 32) | i;  // non-negative floats order like their bits
        }
        Arrays.sort(order, 0, n);
        double[] dropped = new double[rows];
        for (int j = 0; j < n; j++) {
            int i = (int) order[j];
            boolean fits = true;
            for (int r = 0; r < rows && fits; r++) {
                fits = dropped[r] + contribution(metadata, blockIds[i], scores[r * count + i], max[r], z[r]) <= config.epsilon();
            }
            if (!fits) {
                for (int rest = j; rest < n; rest++) keep[(int) order[rest]] = true;
                break;
            }
            for (int r = 0; r < rows; r++) dropped[r] += contribution(metadata, blockIds[i], scores[r * count + i], max[r], z[r]);
        }
        double worstRow = 0;
        for (double d : dropped) worstRow = Math.max(worstRow, d);
        return worstRow;
    }

    private static double contribution(BlockMetadataStore metadata, int blockId, float bound, double max, double z) {
        return metadata.tokenCount(blockId) * Math.exp(bound - max) / z;
    }
}
