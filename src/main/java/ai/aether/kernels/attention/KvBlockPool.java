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
 * Values are stored row-major {@code [blockSize][valueStride]} (valueStride = headDim rounded
 * up to the vector length) for the probability-weighted sum. Elements are fp32 or, for
 * FP16/BF16, their 16-bit encodings.
 *
 * <p>Writes go to one token slot of one block (the open block of a sequence); reads of full
 * blocks need no locking. Allocation and release are synchronized.
 */
public final class KvBlockPool {

    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    private final int headDim;
    private final int blockSize;
    private final KvDtype dtype;
    private final int keyStride;    // tokens per transposed key row, padded
    private final int valueStride;  // floats per value row, padded

    // Indexed by block id; exactly one pair is used, by dtype.
    private float[][] keysF32 = new float[0][];    // [block][headDim * keyStride]
    private float[][] valuesF32 = new float[0][];  // [block][blockSize * valueStride]
    private short[][] keysHalf = new short[0][];   // [block][headDim * keyStride]
    private short[][] valuesHalf = new short[0][]; // [block][blockSize * valueStride]

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
        if (dtype == null) throw new IllegalArgumentException("dtype must be one of FP32, FP16, BF16, got null");
        if (initialBlocks < 0) throw new IllegalArgumentException("initialBlocks must be >= 0, got " + initialBlocks);
        this.headDim = headDim;
        this.blockSize = blockSize;
        this.dtype = dtype;
        this.keyStride = roundUp(blockSize, LANES);
        this.valueStride = roundUp(headDim, LANES);
        grow(initialBlocks);
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
    public long kvBytes(long tokens) { return tokens * headDim * 2L * dtype.bytes(); }

    /** Number of blocks currently handed out. */
    public synchronized int blocksInUse() { return nextFreshId - freeCount; }

    /** Highest block id ever handed out, plus one (metadata stores size themselves by it). */
    public synchronized int capacity() { return keysF32.length; }

    /** Hands out a block id; its token slots must be written before they are read. */
    public synchronized int allocate() {
        if (freeCount > 0) return freeIds[--freeCount];
        if (nextFreshId == capacity()) grow(Math.max(16, capacity() * 2));
        int id = nextFreshId++;
        if (dtype == KvDtype.FP32) {
            keysF32[id] = new float[headDim * keyStride];
            valuesF32[id] = new float[blockSize * valueStride];
        } else {
            keysHalf[id] = new short[headDim * keyStride];
            valuesHalf[id] = new short[blockSize * valueStride];
        }
        return id;
    }

    /** Returns a block to the pool. */
    public synchronized void release(int blockId) {
        checkId(blockId);
        if (freeCount == freeIds.length) freeIds = Arrays.copyOf(freeIds, Math.max(16, freeIds.length * 2));
        freeIds[freeCount++] = blockId;
    }

    private void grow(int newCapacity) {
        if (newCapacity <= keysF32.length) return;
        keysF32 = Arrays.copyOf(keysF32, newCapacity);
        valuesF32 = Arrays.copyOf(valuesF32, newCapacity);
        keysHalf = Arrays.copyOf(keysHalf, newCapacity);
        valuesHalf = Arrays.copyOf(valuesHalf, newCapacity);
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
        switch (dtype) {
            case FP32 -> {
                float[] k = keysF32[blockId], v = valuesF32[blockId];
                for (int d = 0; d < headDim; d++) k[d * keyStride + slot] = key[keyOffset + d];
                System.arraycopy(value, valueOffset, v, slot * valueStride, headDim);
            }
            case FP16 -> {
                short[] k = keysHalf[blockId], v = valuesHalf[blockId];
                for (int d = 0; d < headDim; d++) k[d * keyStride + slot] = Float.floatToFloat16(key[keyOffset + d]);
                for (int d = 0; d < headDim; d++) v[slot * valueStride + d] = Float.floatToFloat16(value[valueOffset + d]);
            }
            case BF16 -> {
                short[] k = keysHalf[blockId], v = valuesHalf[blockId];
                for (int d = 0; d < headDim; d++) k[d * keyStride + slot] = KvDtype.floatToBf16(key[keyOffset + d]);
                for (int d = 0; d < headDim; d++) v[slot * valueStride + d] = KvDtype.floatToBf16(value[valueOffset + d]);
            }
        }
    }

    /** Copies the stored key of one token (as fp32) into {@code dst[offset .. offset+headDim)}. */
    public void readKey(int blockId, int slot, float[] dst, int offset) {
        switch (dtype) {
            case FP32 -> { float[] k = keysF32[blockId]; for (int d = 0; d < headDim; d++) dst[offset + d] = k[d * keyStride + slot]; }
            case FP16 -> { short[] k = keysHalf[blockId]; for (int d = 0; d < headDim; d++) dst[offset + d] = Float.float16ToFloat(k[d * keyStride + slot]); }
            case BF16 -> { short[] k = keysHalf[blockId]; for (int d = 0; d < headDim; d++) dst[offset + d] = KvDtype.bf16ToFloat(k[d * keyStride + slot]); }
        }
    }

    /** Copies the stored value of one token (as fp32) into {@code dst[offset .. offset+headDim)}. */
    public void readValue(int blockId, int slot, float[] dst, int offset) {
        switch (dtype) {
            case FP32 -> System.arraycopy(valuesF32[blockId], slot * valueStride, dst, offset, headDim);
            case FP16 -> { short[] v = valuesHalf[blockId]; for (int d = 0; d < headDim; d++) dst[offset + d] = Float.float16ToFloat(v[slot * valueStride + d]); }
            case BF16 -> { short[] v = valuesHalf[blockId]; for (int d = 0; d < headDim; d++) dst[offset + d] = KvDtype.bf16ToFloat(v[slot * valueStride + d]); }
        }
    }

    // ---- kernel access: the stored arrays ----

    /** Stored transposed keys of a FP32 pool, {@code [headDim][keyStride]} (null for 16-bit pools). */
    float[] keysF32(int blockId) { return keysF32[blockId]; }
    /** Stored values of a FP32 pool, {@code [blockSize][valueStride]}. */
    float[] valuesF32(int blockId) { return valuesF32[blockId]; }
    /** Stored transposed keys of a FP16/BF16 pool as raw 16-bit codes. */
    short[] keysHalf(int blockId) { return keysHalf[blockId]; }
    /** Stored values of a FP16/BF16 pool as raw 16-bit codes. */
    short[] valuesHalf(int blockId) { return valuesHalf[blockId]; }

}
