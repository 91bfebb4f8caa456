package ai.aether.kernels.attention;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

/**
 * A paged pool of KV blocks: each block holds the keys and values of {@code blockSize}
 * consecutive tokens of ONE KV head. Sequences own lists of block ids (block tables); kernels
 * read blocks by id only, so many sequences, layers and heads share one pool.
 *
 * <p>Per block, keys are stored transposed, {@code [headDim][keyStride]} (keyStride =
 * blockSize rounded up to the vector length, padding zero), so that a decode step computes a
 * query's logits against 16 tokens at once with broadcast-FMAs and no horizontal reductions.
 * Values follow the keys, row-major {@code [blockSize][valueStride]} (valueStride = headDim
 * rounded up to the vector length), for the probability-weighted sum. Elements are fp32 or, for
 * FP16/BF16, their 16-bit encodings; for INT8, int8 codes with one fp32 scale per token's key and
 * per token's value ({@code [keyStride]} key scales then {@code [keyStride]} value scales per block,
 * in slabs of their own).
 *
 * <p>Blocks live in slabs of about 1 MiB, and consecutive ids are adjacent in memory. Decode
 * attention is a memory stream, and on the development machine one thread reads 8 KiB pieces
 * scattered over the heap at ~9 GB/s but one long run at ~26 GB/s: so a cache that takes its
 * blocks with {@link #allocateRun} (one run per KV head) is read as a few long streams.
 *
 * <p>Writes go to one token slot of one block (the open block of a sequence); reads of full
 * blocks need no locking. Allocation and release are synchronized.
 */
public final class KvBlockPool {

    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();
    /** Bytes per slab: large enough for long sequential runs, small enough to waste little in a small pool. */
    private static final int SLAB_BYTES = 1 << 20;

    private final int headDim;
    private final int blockSize;
    private final KvDtype dtype;
    private final int keyStride;      // tokens per transposed key row, padded
    private final int valueStride;    // floats per value row, padded
    private final int keyElements;    // headDim * keyStride
    private final int blockElements;  // keyElements + blockSize * valueStride
    private final int blocksPerSlab;

    // Exactly one of the two is used, by dtype: [slab][blocksPerSlab * blockElements], block b of a
    // slab at b * blockElements: keys [headDim][keyStride] then values [blockSize][valueStride].
    private float[][] slabsF32 = new float[0][];
    private short[][] slabsHalf = new short[0][];
    private byte[][] slabsInt8 = new byte[0][];
    private float[][] slabsScale = new float[0][];  // INT8: [slab][blocksPerSlab * 2 * keyStride]

    private int[] freeIds = new int[0];  // stack of released ids
    private int freeCount;
    private int nextFreshId;

    /**
     * @param headDim        elements per key/value vector, >= 1
     * @param blockSize      tokens per block, >= 1
     * @param dtype          storage type
     * @param initialBlocks  block slots to reserve up front (the pool grows on demand)
     */
    public KvBlockPool(int headDim, int blockSize, KvDtype dtype, int initialBlocks) {
        if (headDim < 1 || headDim > 4096) throw new IllegalArgumentException("headDim must be in [1, 4096], got " + headDim);
        if (blockSize < 1 || blockSize > 4096) throw new IllegalArgumentException("blockSize must be in [1, 4096], got " + blockSize);
        if (dtype == null) throw new IllegalArgumentException("dtype must be one of FP32, FP16, BF16, INT8, got null");
        if (initialBlocks < 0) throw new IllegalArgumentException("initialBlocks must be >= 0, got " + initialBlocks);
        this.headDim = headDim;
        this.blockSize = blockSize;
        this.dtype = dtype;
        this.keyStride = roundUp(blockSize, LANES);
        this.valueStride = roundUp(headDim, LANES);
        this.keyElements = headDim * keyStride;
        this.blockElements = keyElements + blockSize * valueStride;
        this.blocksPerSlab = (int) Math.max(1, Math.min(4096, SLAB_BYTES / ((long) blockElements * dtype.bytes())));
        int slabs = (initialBlocks + blocksPerSlab - 1) / blocksPerSlab;
        slabsF32 = new float[slabs][];
        slabsHalf = new short[slabs][];
        slabsInt8 = new byte[slabs][];
        slabsScale = new float[slabs][];
    }

    static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    public int headDim() { return headDim; }
    public int blockSize() { return blockSize; }
    public KvDtype dtype() { return dtype; }
    /** Padded length of one transposed key row (tokens). */
    public int keyStride() { return keyStride; }
    /** Padded length of one value row (floats). */
    public int valueStride() { return valueStride; }
    /** Bytes of K plus V that a kernel reads for {@code tokens} tokens of one head. */
    public long kvBytes(long tokens) { return tokens * dtype.tokenBytes(headDim); }

    /** Bytes of the slabs allocated so far (keys, values, INT8 scales): what the pool holds in memory. */
    public synchronized long allocatedBytes() {
        long bytes = 0;
        for (int slab = 0; slab < slabsF32.length; slab++) {
            if (slabsF32[slab] != null) bytes += 4L * slabsF32[slab].length;
            if (slabsHalf[slab] != null) bytes += 2L * slabsHalf[slab].length;
            if (slabsInt8[slab] != null) bytes += slabsInt8[slab].length;
            if (slabsScale[slab] != null) bytes += 4L * slabsScale[slab].length;
        }
        return bytes;
    }

    /** Number of blocks currently handed out. */
    public synchronized int blocksInUse() { return nextFreshId - freeCount; }

    /** Block slots the pool has room for without growing (every id handed out is below it). */
    public synchronized int capacity() { return Math.max(slabsF32.length * blocksPerSlab, nextFreshId); }

    /** Hands out a block id; its token slots must be written before they are read. */
    public synchronized int allocate() {
        if (freeCount > 0) return freeIds[--freeCount];
        return allocateRun(1);
    }

    /**
     * Hands out {@code count} fresh consecutive ids (never recycled ones), so the blocks lie next
     * to each other in memory (across a slab boundary at most once per slab): a cache that takes
     * one run per KV head is read as long sequential streams.
     *
     * @return the first id of the run
     */
    public synchronized int allocateRun(int count) {
        if (count < 1) throw new IllegalArgumentException("run length must be >= 1, got " + count);
        int first = nextFreshId;
        int end = first + count;
        int slabsNeeded = (end + blocksPerSlab - 1) / blocksPerSlab;
        if (slabsNeeded > slabsF32.length) {
            int grown = Math.max(slabsNeeded, slabsF32.length * 2);
            slabsF32 = Arrays.copyOf(slabsF32, grown);
            slabsHalf = Arrays.copyOf(slabsHalf, grown);
            slabsInt8 = Arrays.copyOf(slabsInt8, grown);
            slabsScale = Arrays.copyOf(slabsScale, grown);
        }
        for (int slab = first / blocksPerSlab; slab < slabsNeeded; slab++) {
            switch (dtype) {
                case FP32 -> { if (slabsF32[slab] == null) slabsF32[slab] = new float[blocksPerSlab * blockElements]; }
                case FP16, BF16 -> { if (slabsHalf[slab] == null) slabsHalf[slab] = new short[blocksPerSlab * blockElements]; }
                case INT8 -> {
                    if (slabsInt8[slab] == null) {
                        slabsInt8[slab] = new byte[blocksPerSlab * blockElements];
                        slabsScale[slab] = new float[blocksPerSlab * 2 * keyStride];
                    }
                }
            }
        }
        nextFreshId = end;
        return first;
    }

    /** Returns a block to the pool. */
    public synchronized void release(int blockId) {
        checkId(blockId);
        if (freeCount == freeIds.length) freeIds = Arrays.copyOf(freeIds, Math.max(16, freeIds.length * 2));
        freeIds[freeCount++] = blockId;
    }

    private void checkId(int blockId) {
        if (blockId < 0 || blockId >= nextFreshId) {
            throw new IllegalArgumentException("block id must be in [0, " + nextFreshId + "), got " + blockId);
        }
    }

    /**
     * Stores one token's key and value (each {@code headDim} floats) in slot {@code slot} of a
     * block, rounded to the pool's dtype.
     */
    public void writeToken(int blockId, int slot, float[] key, int keyOffset, float[] value, int valueOffset) {
        if (slot < 0 || slot >= blockSize) throw new IllegalArgumentException("slot must be in [0, " + blockSize + "), got " + slot);
        int k = keyOffset(blockId) + slot, v = valueOffset(blockId) + slot * valueStride;
        switch (dtype) {
            case FP32 -> {
                float[] data = dataF32(blockId);
                for (int d = 0; d < headDim; d++) data[k + d * keyStride] = key[keyOffset + d];
                System.arraycopy(value, valueOffset, data, v, headDim);
            }
            case FP16 -> {
                short[] data = dataHalf(blockId);
                for (int d = 0; d < headDim; d++) data[k + d * keyStride] = Float.floatToFloat16(key[keyOffset + d]);
                for (int d = 0; d < headDim; d++) data[v + d] = Float.floatToFloat16(value[valueOffset + d]);
            }
            case BF16 -> {
                short[] data = dataHalf(blockId);
                for (int d = 0; d < headDim; d++) data[k + d * keyStride] = KvDtype.floatToBf16(key[keyOffset + d]);
                for (int d = 0; d < headDim; d++) data[v + d] = KvDtype.floatToBf16(value[valueOffset + d]);
            }
            case INT8 -> {
                byte[] data = dataInt8(blockId);
                float[] scales = scales(blockId);
                int scaleAt = scaleOffset(blockId) + slot;
                float keyScale = KvDtype.int8Scale(key, keyOffset, headDim), valueScale = KvDtype.int8Scale(value, valueOffset, headDim);
                for (int d = 0; d < headDim; d++) data[k + d * keyStride] = KvDtype.int8Code(key[keyOffset + d], keyScale);
                for (int d = 0; d < headDim; d++) data[v + d] = KvDtype.int8Code(value[valueOffset + d], valueScale);
                scales[scaleAt] = keyScale;
                scales[scaleAt + keyStride] = valueScale;
            }
        }
    }

    /** Copies the stored key of one token (as fp32) into {@code dst[offset .. offset+headDim)}. */
    public void readKey(int blockId, int slot, float[] dst, int offset) {
        int k = keyOffset(blockId) + slot;
        switch (dtype) {
            case FP32 -> { float[] data = dataF32(blockId); for (int d = 0; d < headDim; d++) dst[offset + d] = data[k + d * keyStride]; }
            case FP16 -> { short[] data = dataHalf(blockId); for (int d = 0; d < headDim; d++) dst[offset + d] = Float.float16ToFloat(data[k + d * keyStride]); }
            case BF16 -> { short[] data = dataHalf(blockId); for (int d = 0; d < headDim; d++) dst[offset + d] = KvDtype.bf16ToFloat(data[k + d * keyStride]); }
            case INT8 -> {
                byte[] data = dataInt8(blockId);
                float scale = scales(blockId)[scaleOffset(blockId) + slot];
                for (int d = 0; d < headDim; d++) dst[offset + d] = data[k + d * keyStride] * scale;
            }
        }
    }

    /** Copies the stored value of one token (as fp32) into {@code dst[offset .. offset+headDim)}. */
    public void readValue(int blockId, int slot, float[] dst, int offset) {
        int v = valueOffset(blockId) + slot * valueStride;
        switch (dtype) {
            case FP32 -> System.arraycopy(dataF32(blockId), v, dst, offset, headDim);
            case FP16 -> { short[] data = dataHalf(blockId); for (int d = 0; d < headDim; d++) dst[offset + d] = Float.float16ToFloat(data[v + d]); }
            case BF16 -> { short[] data = dataHalf(blockId); for (int d = 0; d < headDim; d++) dst[offset + d] = KvDtype.bf16ToFloat(data[v + d]); }
            case INT8 -> {
                byte[] data = dataInt8(blockId);
                float scale = scales(blockId)[scaleOffset(blockId) + keyStride + slot];
                for (int d = 0; d < headDim; d++) dst[offset + d] = data[v + d] * scale;
            }
        }
    }

    // ---- kernel access: the slab holding a block, and where its keys and values start ----

    /** The FP32 slab holding {@code blockId} (null for 16-bit pools). */
    float[] dataF32(int blockId) { return slabsF32[blockId / blocksPerSlab]; }
    /** The FP16/BF16 slab holding {@code blockId}, raw 16-bit codes (null for FP32 pools). */
    short[] dataHalf(int blockId) { return slabsHalf[blockId / blocksPerSlab]; }
    /** The INT8 slab holding {@code blockId} (null for other pools). */
    byte[] dataInt8(int blockId) { return slabsInt8[blockId / blocksPerSlab]; }
    /** INT8: the scale slab holding {@code blockId}'s per-token key scales and value scales (null for other pools). */
    float[] scales(int blockId) { return slabsScale[blockId / blocksPerSlab]; }
    /** INT8: where the block's key scales {@code [keyStride]} start in its scale slab; its value scales follow. */
    int scaleOffset(int blockId) { return blockId % blocksPerSlab * 2 * keyStride; }
    /** Where the block's transposed keys {@code [headDim][keyStride]} start in its slab. */
    int keyOffset(int blockId) { return blockId % blocksPerSlab * blockElements; }
    /** Where the block's values {@code [blockSize][valueStride]} start in its slab. */
    int valueOffset(int blockId) { return blockId % blocksPerSlab * blockElements + keyElements; }
}
