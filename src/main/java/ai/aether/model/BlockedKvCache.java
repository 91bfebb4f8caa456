package ai.aether.model;

import ai.aether.kernels.attention.AttentionBackend;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvBlockPool;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.kernels.attention.PrefillRequest;

import java.util.Arrays;

/**
 * Dense attention over a paged block pool: the fast dense baseline. Keys and values live in a
 * {@link KvBlockPool} (blocks of {@code blockSize} tokens of one KV head, fp32/fp16/bf16), and
 * attention runs on the pool's vectorised kernels ({@link AttentionBackend}) with every block
 * kept, which is exactly the AETHER cache's computation with nothing skipped.
 */
public final class BlockedKvCache implements KvCache {
    /** Tokens per block, the AETHER default. */
    public static final int DEFAULT_BLOCK_SIZE = 64;
    /**
     * Blocks reserved at once for one KV head of one layer: they are adjacent in the pool, so
     * decode reads each head's cache as runs of this many blocks (a sequential memory stream)
     * rather than as scattered single blocks. Reserving ahead costs at most this many blocks
     * per head beyond the written length, never beyond the capacity.
     */
    private static final int BLOCK_RUN = 16;

    private final int layers, kvHeads, headDim, capacity, blockSize;
    private final KvBlockPool pool;
    private final AttentionBackend backend;
    private final int[][][] blockTables;  // [layers][kvHeads][blocks] physical ids in position order
    private final int[] blockCounts;      // [layers] blocks in use per KV head
    private final int[] blocksReserved;   // [layers] blocks allocated per KV head (in use + reserved ahead)
    private final DecodePlan[] plans;     // [layers] reused decode schedules, built lazily per query-head count

    public BlockedKvCache(int layers, int kvHeads, int headDim, int capacity, KvDtype dtype, int blockSize) {
        if (layers < 1 || kvHeads < 1 || headDim < 1 || capacity < 1) {
            throw new IllegalArgumentException("KV cache dimensions must be positive, got layers=" + layers + " kvHeads=" + kvHeads
                    + " headDim=" + headDim + " capacity=" + capacity);
        }
        this.layers = layers; this.kvHeads = kvHeads; this.headDim = headDim; this.capacity = capacity;
        this.blockSize = blockSize;
        int blocksPerHead = (capacity + blockSize - 1) / blockSize;
        this.pool = new KvBlockPool(headDim, blockSize, dtype, Math.min(1024, layers * kvHeads * blocksPerHead));
        this.backend = AttentionBackend.load();
        this.blockTables = new int[layers][kvHeads][blocksPerHead];
        this.blockCounts = new int[layers];
        this.blocksReserved = new int[layers];
        this.plans = new DecodePlan[layers];
    }

    /** A cache shaped for {@code config}. */
    public static BlockedKvCache forModel(ModelConfig config, int capacity, KvDtype dtype) {
        return new BlockedKvCache(config.layers(), config.kvHeads(), config.headDim(), capacity, dtype, DEFAULT_BLOCK_SIZE);
    }

    @Override public int layers() { return layers; }
    @Override public int kvHeads() { return kvHeads; }
    @Override public int headDim() { return headDim; }
    @Override public int capacity() { return capacity; }
    @Override public long kvBytes() { return pool.allocatedBytes(); }
    public KvDtype dtype() { return pool.dtype(); }

    private void checkRange(int layer, int position, int tokens) {
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer " + layer + " outside [0, " + layers + ")");
        if (position < 0 || tokens < 1 || (long) position + tokens > capacity) {
            throw new IllegalArgumentException("positions [" + position + ", " + ((long) position + tokens)
                    + ") do not fit the KV cache capacity " + capacity);
        }
    }

    @Override
    public void write(int layer, int position, int tokens, float[] keys, float[] values) {
        checkRange(layer, position, tokens);
        int neededBlocks = (position + tokens + blockSize - 1) / blockSize;
        if (neededBlocks > blocksReserved[layer]) {
            int from = blocksReserved[layer], blocksPerHead = blockTables[layer][0].length;
            int run = Math.max(neededBlocks - from, Math.min(BLOCK_RUN, blocksPerHead - from));
            for (int h = 0; h < kvHeads; h++) {
                int first = pool.allocateRun(run);
                for (int b = 0; b < run; b++) blockTables[layer][h][from + b] = first + b;
            }
            blocksReserved[layer] = from + run;
        }
        blockCounts[layer] = Math.max(blockCounts[layer], neededBlocks);
        for (int t = 0; t < tokens; t++) {
            int p = position + t;
            for (int h = 0; h < kvHeads; h++) {
                int offset = (t * kvHeads + h) * headDim;
                pool.writeToken(blockTables[layer][h][p / blockSize], p % blockSize, keys, offset, values, offset);
            }
        }
    }

    @Override
    public void attend(int layer, int position, int tokens, float[] queries, int heads, float[] out) {
        checkRange(layer, position, tokens);
        int end = position + tokens;
        int blocks = (end + blockSize - 1) / blockSize;
        if (blocks > blockCounts[layer]) {
            throw new IllegalStateException("layer " + layer + ": attention over positions up to " + end + " that were never written");
        }
        if (tokens > 1) {
            int[][] table = new int[kvHeads][];
            for (int h = 0; h < kvHeads; h++) table[h] = Arrays.copyOf(blockTables[layer][h], blocks);
            backend.prefill(pool, new PrefillRequest(table, position, tokens, heads, queries, out));
            return;
        }
        DecodePlan plan = plans[layer];
        if (plan == null || plan.queryHeads() != heads) plan = plans[layer] = new DecodePlan(1, heads, kvHeads, headDim, false);
        plan.setSequenceLength(0, end);
        for (int h = 0; h < kvHeads; h++) {
            plan.clearList(0, h);
            for (int b = 0; b < blocks; b++) plan.addBlock(0, h, blockTables[layer][h][b], b);
        }
        backend.plan(plan, pool);
        backend.decode(pool, plan, queries, out);
    }
}
