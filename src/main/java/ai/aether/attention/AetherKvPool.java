package ai.aether.attention;

import ai.aether.kernels.attention.KvBlockPool;
import ai.aether.kernels.attention.KvDtype;

/**
 * The shared store behind every sequence's KV cache: a paged {@link KvBlockPool} of blocks (one KV
 * head, {@code blockSize} tokens each) plus the {@link BlockMetadataStore} indexed by the same
 * block ids. Sequences ({@link SequenceKvCache}) own block tables into it.
 *
 * <pre>{@code
 * AetherKvPool pool = new AetherKvPool(headDim, 64, KvDtype.FP16, 0);
 * SequenceKvCache cache = pool.newSequence(layers, kvHeads);
 * cache.append(layer, keys, values, tokens);     // keys, values: [tokens][kvHeads][headDim]
 * }</pre>
 *
 * <p>Threads: calls on caches that share a pool (appends, attention) must not overlap, because
 * block allocation may grow the shared arrays; each call parallelises internally.
 */
public final class AetherKvPool {

    private final KvBlockPool blocks;
    private final BlockMetadataStore metadata;

    /**
     * @param headDim       key/value vector length
     * @param blockSize     tokens per block
     * @param dtype         storage type of keys and values
     * @param initialBlocks block slots reserved up front (grows on demand)
     */
    public AetherKvPool(int headDim, int blockSize, KvDtype dtype, int initialBlocks) {
        this(headDim, blockSize, dtype, initialBlocks, BlockMetadataStore.DEFAULT_SKETCH_CHANNELS);
    }

    /** As above, with {@code sketchChannels} channels in each block's key sketch (KEY_SKETCH score). */
    public AetherKvPool(int headDim, int blockSize, KvDtype dtype, int initialBlocks, int sketchChannels) {
        this.blocks = new KvBlockPool(headDim, blockSize, dtype, initialBlocks);
        this.metadata = new BlockMetadataStore(headDim, sketchChannels);
        metadata.keyElementBytes(dtype.bytes());
        metadata.ensureCapacity(Math.max(initialBlocks, 1));
    }

    /** A pool for {@code config.blockSize()} and {@code config.kvDtype()}. */
    public static AetherKvPool forConfig(AetherConfig config, int headDim, int initialBlocks) {
        return new AetherKvPool(headDim, config.blockSize(), config.kvDtype(), initialBlocks);
    }

    public KvBlockPool blocks() { return blocks; }
    public BlockMetadataStore metadata() { return metadata; }
    public int headDim() { return blocks.headDim(); }
    public int blockSize() { return blocks.blockSize(); }
    public KvDtype dtype() { return blocks.dtype(); }

    /** An empty cache for one sequence with {@code layers} x {@code kvHeads} block tables. */
    public SequenceKvCache newSequence(int layers, int kvHeads) {
        return new SequenceKvCache(this, layers, kvHeads);
    }

    int allocateBlock() {
        int id = blocks.allocate();
        metadata.ensureCapacity(id + 1);
        metadata.clear(id);
        return id;
    }

    void releaseBlock(int id) {
        metadata.clear(id);
        blocks.release(id);
    }
}
