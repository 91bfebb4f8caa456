package ai.aether.attention;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvBlockPool;
import ai.aether.kernels.attention.KvDtype;

import java.util.Arrays;

/**
 * One sequence's KV cache: for every (layer, KV head) a block table of ids into a shared
 * {@link AetherKvPool}. Appending a token writes only the open (last) block; when a block fills,
 * its metadata is computed from the stored keys and is final from then on.
 *
 * <p>Key sketch channels: all full blocks of a (layer, KV head) sketch the same channels, those where
 * the head's cached keys (position 0, the attention sink, left out) have the largest summed |k|.
 * Content lives in a few large channels (RoPE's slow pairs). When a new full block changes that
 * set, the head's earlier blocks are sketched again (rare after the first few blocks); a truncate
 * restores the set of the remaining blocks, so the sketches are a function of the cached keys alone
 * and a rewound and refilled cache sketches alike.
 */
public final class SequenceKvCache {

    private static final float FP16_MAX = 65504f;

    private final AetherKvPool pool;
    private final int layers;
    private final int kvHeads;
    private final int[] length;        // [layers] tokens cached per layer
    private final int[][][] blockIds;  // [layers][kvHeads][capacity] ids in position order
    private final int[] blockCount;    // [layers] blocks per KV head
    private double[] budgetScales;     // [layers] TARGET_SPARSITY budget per layer relative to uniform, or null (uniform)
    private boolean[] rerankLayers;    // [layers] layers whose selection reranks by exact mass, or null (the config decides alone)
    // AetherConfig.reselectInterval: per layer and list, the latest fresh selection, for the next steps to reuse.
    private final Remembered[][] remembered;  // [layers][lists] or null

    /** One list's fresh selection: when, over how many blocks, which blocks. */
    private static final class Remembered {
        int atLength;       // cached tokens when it was made
        int blockCount;     // blocks per KV head then
        int[] blocks = new int[16];  // [count] block indices, ascending
        int count;
    }

    SequenceKvCache(AetherKvPool pool, int layers, int kvHeads) {
        if (layers < 1) throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        if (kvHeads < 1) throw new IllegalArgumentException("kvHeads must be >= 1, got " + kvHeads);
        this.pool = pool;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.length = new int[layers];
        this.blockIds = new int[layers][kvHeads][8];
        this.blockCount = new int[layers];
        this.remembered = new Remembered[layers][];
    }

    /**
     * Whether list {@code list} of layer {@code layer} may decode with its remembered selection instead of
     * a fresh one: one was made (with {@code lists} lists) fewer than {@code interval} tokens ago, and
     * since then tokens came one at a time (decode, not a prefill) and nothing was truncated or reconfigured.
     */
    public boolean canReuseSelection(int layer, int lists, int list, int interval) {
        checkLayer(layer);
        if (interval <= 1 || remembered[layer] == null || remembered[layer].length != lists) return false;
        Remembered r = remembered[layer][list];
        return r != null && length[layer] > r.atLength && length[layer] - r.atLength < interval;
    }

    /** Remembers list {@code list}'s kept blocks ({@code blocks[0..count)}, ascending) of a fresh selection at the current length. */
    public void rememberSelection(int layer, int lists, int list, int[] blocks, int count) {
        checkLayer(layer);
        if (remembered[layer] == null || remembered[layer].length != lists) remembered[layer] = new Remembered[lists];
        Remembered r = remembered[layer][list];
        if (r == null) remembered[layer][list] = r = new Remembered();
        if (r.blocks.length < count) r.blocks = new int[count * 2];
        System.arraycopy(blocks, 0, r.blocks, 0, count);
        r.count = count;
        r.atLength = length[layer];
        r.blockCount = blockCount[layer];
    }

    /**
     * The remembered kept blocks of a list followed by every block started since (the newest are
     * always kept), ascending, into {@code out}; returns how many.
     */
    public int reusedSelection(int layer, int list, int[] out) {
        Remembered r = remembered[checkLayer(layer)][list];
        int n = r.count;
        System.arraycopy(r.blocks, 0, out, 0, n);
        for (int blk = r.blockCount; blk < blockCount[layer]; blk++) out[n++] = blk;
        return n;
    }

    /** Forgets every remembered selection (the config changed). */
    public void forgetSelections() {
        Arrays.fill(remembered, null);
    }

    public AetherKvPool pool() { return pool; }
    public int layers() { return layers; }
    public int kvHeads() { return kvHeads; }
    /** Tokens cached in layer {@code layer}. */
    public int length(int layer) { return length[checkLayer(layer)]; }
    /** Blocks per KV head in layer {@code layer} (the last may be partial). */
    public int blockCount(int layer) { return blockCount[checkLayer(layer)]; }
    /** Pool id of block {@code block} (position order) of a (layer, KV head). */
    public int blockId(int layer, int kvHead, int block) { return blockIds[checkLayer(layer)][kvHead][block]; }

    /** Layer {@code layer}'s TARGET_SPARSITY block budget relative to the uniform one (1 unless calibrated). */
    public double budgetScale(int layer) { return budgetScales == null ? 1.0 : budgetScales[checkLayer(layer)]; }

    /**
     * Sets the per-layer budget scales ({@link LayerBudgetCalibration}), or null for uniform budgets.
     *
     * @param scales {@code [layers]} finite, > 0
     */
    public void setBudgetScales(double[] scales) {
        if (scales != null) {
            if (scales.length != layers) throw new IllegalArgumentException("budget scales: " + scales.length + " values for " + layers + " layers");
            for (int i = 0; i < layers; i++) {
                if (!(scales[i] > 0) || !Double.isFinite(scales[i])) {
                    throw new IllegalArgumentException("budget scale of layer " + i + " must be finite and > 0, got " + scales[i]);
                }
            }
        }
        this.budgetScales = scales == null ? null : scales.clone();
    }

    /**
     * Which layers rerank the radar's candidates by exact mass for this sequence (chosen for the
     * prompt, {@link LayerBudgetCalibration#rerankLayers} or {@link AetherConfig#rerankLayersFor}), or
     * null to leave it to {@link AetherConfig#reranks(int)}.
     */
    public void setRerankLayers(boolean[] layersThatRerank) {
        if (layersThatRerank != null && layersThatRerank.length != layers) {
            throw new IllegalArgumentException("rerank layers: " + layersThatRerank.length + " flags for " + layers + " layers");
        }
        this.rerankLayers = layersThatRerank == null ? null : layersThatRerank.clone();
    }

    /** Whether layer {@code layer} reranks under {@code config} for this sequence. */
    public boolean reranks(AetherConfig config, int layer) {
        checkLayer(layer);
        if (config.rerankFactor() <= 1) return false;
        return rerankLayers != null && config.rerankLayers().isEmpty() ? rerankLayers[layer] : config.reranks(layer);
    }

    /** Block ids of one (layer, KV head) in position order; the array may be longer than {@link #blockCount}. */
    public int[] blockIdsView(int layer, int kvHead) { return blockIds[checkLayer(layer)][kvHead]; }

    /** A copy of the block table of every KV head of a layer, {@code [kvHeads][blockCount]}. */
    public int[][] blockTable(int layer) {
        int[][] table = new int[kvHeads][];
        for (int h = 0; h < kvHeads; h++) table[h] = Arrays.copyOf(blockIds[checkLayer(layer)][h], blockCount[layer]);
        return table;
    }

    /**
     * Appends the keys and values of {@code tokens} new tokens to one layer. Full blocks get
     * their metadata computed (in parallel over KV heads for bulk appends such as a prefill).
     *
     * @param keys   {@code [tokens][kvHeads][headDim]} post-RoPE keys, finite
     * @param values {@code [tokens][kvHeads][headDim]}
     */
    public void append(int layer, float[] keys, float[] values, int tokens) {
        checkLayer(layer);
        int dim = pool.headDim();
        long expected = (long) tokens * kvHeads * dim;
        if (tokens < 1) throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        if (keys == null || keys.length < expected) {
            throw new IllegalArgumentException("keys must hold [tokens=" + tokens + "][kvHeads=" + kvHeads + "][headDim=" + dim + "] = "
                    + expected + " floats, got " + (keys == null ? "null" : keys.length));
        }
        if (values == null || values.length < expected) {
            throw new IllegalArgumentException("values must hold [tokens=" + tokens + "][kvHeads=" + kvHeads + "][headDim=" + dim + "] = "
                    + expected + " floats, got " + (values == null ? "null" : values.length));
        }
        float limit = pool.dtype() == KvDtype.FP16 ? FP16_MAX : Float.MAX_VALUE;
        for (int i = 0; i < expected; i++) {
            if (!(Math.abs(keys[i]) <= limit)) throw new IllegalArgumentException(outOfRange("keys", i, keys[i], layer));
            if (!(Math.abs(values[i]) <= limit)) throw new IllegalArgumentException(outOfRange("values", i, values[i], layer));
        }
        if (tokens > 1) remembered[layer] = null;  // new prompt tokens (a prefill): the next decode step selects afresh
        int blockSize = pool.blockSize();
        int start = length[layer], end = start + tokens;
        int blocksNeeded = (end + blockSize - 1) / blockSize;
        for (int h = 0; h < kvHeads; h++) {
            if (blockIds[layer][h].length < blocksNeeded) {
                blockIds[layer][h] = Arrays.copyOf(blockIds[layer][h], Math.max(blocksNeeded, blockIds[layer][h].length * 2));
            }
            for (int blk = blockCount[layer]; blk < blocksNeeded; blk++) blockIds[layer][h][blk] = pool.allocateBlock();
        }
        blockCount[layer] = blocksNeeded;
        KvBlockPool blocks = pool.blocks();
        if (start % blockSize != 0) {
            for (int h = 0; h < kvHeads; h++) pool.metadata().clear(blockIds[layer][h][start / blockSize]);  // partial summary is stale
        }
        Parallel.forEach(kvHeads, h -> {
            float[] blockKeys = null;  // [blockSize][headDim] scratch for metadata
            for (int pos = start; pos < end; pos++) {
                int id = blockIds[layer][h][pos / blockSize];
                int src = ((pos - start) * kvHeads + h) * dim;
                blocks.writeToken(id, pos % blockSize, keys, src, values, src);
                if (pos % blockSize == blockSize - 1) {
                    if (blockKeys == null) blockKeys = new float[blockSize * dim];
                    summarize(layer, h, pos / blockSize, blockKeys, blockSize);
                }
            }
        });
        length[layer] = end;
    }

    private String outOfRange(String name, int index, float value, int layer) {
        return name + "[" + index + "] is " + value + " (layer " + layer + "); " + name + " must be finite"
                + (pool.dtype() == KvDtype.FP16 ? " and within the FP16 range [-65504, 65504] (use BF16 or FP32 KV for larger values)" : "");
    }

    /**
     * Computes metadata for the partial last block of every KV head of a layer too (the
     * low-level API summarises a whole static tensor); the next append into it discards it.
     */
    void summarizeOpenBlocks(int layer) {
        int blockSize = pool.blockSize(), dim = pool.headDim(), tokens = length[layer] % blockSize;
        if (tokens == 0) return;
        float[] scratch = new float[blockSize * dim];
        for (int h = 0; h < kvHeads; h++) summarize(layer, h, blockCount[layer] - 1, scratch, tokens);
    }

    /**
     * Metadata of block {@code block} of a (layer, KV head) from its first {@code tokens} keys as
     * stored (dtype-rounded, so the certified bounds hold for what attention reads), sketching the
     * head's channels as of this block; when that changes the head's channel set, its earlier
     * blocks are sketched again on the new set.
     */
    private void summarize(int layer, int kvHead, int block, float[] scratch, int tokens) {
        int dim = pool.headDim(), blockSize = pool.blockSize(), id = blockIds[layer][kvHead][block];
        for (int t = 0; t < tokens; t++) pool.blocks().readKey(id, t, scratch, t * dim);
        BlockMetadataStore metadata = pool.metadata();
        float[] magnitude = prefixMagnitude(layer, kvHead, block);
        for (int t = block == 0 ? 1 : 0; t < tokens; t++) for (int d = 0; d < dim; d++) magnitude[d] += Math.abs(scratch[t * dim + d]);
        int[] channels = BlockMetadataStore.largestChannels(magnitude, 0, dim, metadata.sketchChannels());
        metadata.compute(id, scratch, tokens, channels, blockSize);
        resketch(layer, kvHead, block, channels);
    }

    /** Summed |k_d| of blocks [0, blocks) of a (layer, KV head), position 0 (the attention sink) left out. */
    private float[] prefixMagnitude(int layer, int kvHead, int blocks) {
        int dim = pool.headDim();
        float[] magnitude = new float[dim];
        float[] stored = pool.metadata().keyMagnitudes();
        for (int j = 0; j < blocks; j++) {
            int base = blockIds[layer][kvHead][j] * dim;
            for (int d = 0; d < dim; d++) magnitude[d] += stored[base + d];
        }
        if (blocks > 0) {  // block 0's stored sum includes position 0: take it back out
            float[] first = new float[dim];
            pool.blocks().readKey(blockIds[layer][kvHead][0], 0, first, 0);
            for (int d = 0; d < dim; d++) magnitude[d] -= Math.abs(first[d]);
        }
        return magnitude;
    }

    /** Sketches blocks [0, blocks) of a (layer, KV head) again where their channels differ from {@code channels}. */
    private void resketch(int layer, int kvHead, int blocks, int[] channels) {
        BlockMetadataStore metadata = pool.metadata();
        int dim = pool.headDim(), blockSize = pool.blockSize();
        float[] keys = null;
        for (int j = 0; j < blocks; j++) {
            int id = blockIds[layer][kvHead][j];
            if (!metadata.hasMetadata(id) || metadata.sketchUses(id, channels)) continue;
            if (keys == null) keys = new float[blockSize * dim];
            int tokens = metadata.tokenCount(id);
            for (int t = 0; t < tokens; t++) pool.blocks().readKey(id, t, keys, t * dim);
            metadata.resketch(id, keys, tokens, channels, blockSize);
        }
    }

    /**
     * Drops the tokens at positions {@code >= newLength} of one layer (a rewind: a new prompt
     * shares only a prefix with the cached one). Blocks past the end go back to the pool; a block
     * left partial loses its metadata, which is computed again when it refills.
     */
    public void truncate(int layer, int newLength) {
        checkLayer(layer);
        if (newLength < 0 || newLength > length[layer]) {
            throw new IllegalArgumentException("truncate length " + newLength + " outside [0, " + length[layer] + "] (layer " + layer + ")");
        }
        if (newLength == length[layer]) return;
        remembered[layer] = null;
        int blockSize = pool.blockSize();
        int keepBlocks = (newLength + blockSize - 1) / blockSize;
        for (int h = 0; h < kvHeads; h++) {
            for (int blk = keepBlocks; blk < blockCount[layer]; blk++) pool.releaseBlock(blockIds[layer][h][blk]);
            if (newLength % blockSize != 0) pool.metadata().clear(blockIds[layer][h][keepBlocks - 1]);
        }
        blockCount[layer] = keepBlocks;
        length[layer] = newLength;
        int full = newLength / blockSize;  // the sketches go back to the channels of the remaining full blocks
        if (full == 0) return;
        for (int h = 0; h < kvHeads; h++) {
            int[] channels = BlockMetadataStore.largestChannels(prefixMagnitude(layer, h, full), 0, pool.headDim(),
                    pool.metadata().sketchChannels());
            resketch(layer, h, full, channels);
        }
    }

    /** Returns every block to the pool; the cache is empty afterwards. */
    public void release() {
        for (int layer = 0; layer < layers; layer++) {
            for (int h = 0; h < kvHeads; h++) {
                for (int blk = 0; blk < blockCount[layer]; blk++) pool.releaseBlock(blockIds[layer][h][blk]);
            }
            blockCount[layer] = 0;
            length[layer] = 0;
            remembered[layer] = null;
        }
    }

    private int checkLayer(int layer) {
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer must be in [0, " + layers + "), got " + layer);
        return layer;
    }
}
