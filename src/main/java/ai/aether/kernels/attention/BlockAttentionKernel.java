package ai.aether.kernels.attention;

import ai.aether.kernels.ops.Lanes;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The inner loop shared by decode and prefill: a tile of query rows against a run of KV blocks
 * with an fp32 online softmax (running max, running sum, unnormalised accumulator per row).
 * Each key element and value element of a block is loaded once per group of up to four rows, so
 * a whole GQA group is served by one pass over the block; groups of 3 (SmolLM2) or 2 get kernels
 * of their own rather than padding to 4.
 *
 * <p>FP16/BF16 elements are widened in registers as they are loaded, so the block streams from
 * memory once while the multiplies run (a separate widening pass into an fp32 scratch block
 * was measured slower: it stops the conversion from overlapping the memory stream).
 */
final class BlockAttentionKernel {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final VectorSpecies<Short> HALF_SPECIES = VectorSpecies.of(short.class, VectorShape.forBitSize(SPECIES.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INT_SPECIES = VectorSpecies.of(int.class, SPECIES.vectorShape());
    private static final VectorSpecies<Byte> BYTE_SPECIES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, SPECIES.vectorBitSize() / 4)));

    /** Storage modes of {@link #load}. */
    private static final int MODE_FP32 = 0, MODE_FP16 = 1, MODE_BF16 = 2, MODE_FP16_RAW = 3, MODE_INT8 = 4;
    /** An fp16 code shifted into fp32 position reads as the fp16 value times 2^-112. */
    static final float FP16_RAW_SCALE = 0x1p112f;
    /** Largest |query element| that stays finite when pre-multiplied by {@link #FP16_RAW_SCALE}. */
    static final float FP16_RAW_QUERY_LIMIT = Float.MAX_VALUE / 0x1p113f;

    private BlockAttentionKernel() {}

    /** Per-thread scratch, sized for the pool and the largest tile. */
    static final class Scratch {
        final float[] logits;     // [rows][keyStride], probabilities after the softmax step
        final float[] queryRows;  // [rows][headDim], pre-scaled
        final int[] validTokens;  // [rows]
        final int[] rowOffsets;   // [rows] where each query row starts in the caller's array
        final float[] lanes = new float[LANES];  // a vector's lanes on their way to Lanes.sumOfLanes
        final int rows;
        /**
         * True when queryRows were pre-multiplied by {@link #FP16_RAW_SCALE} (FP16 pools): keys and
         * values are then read without their per-element rescale, which moves to the query and to
         * the probabilities (one multiply per row instead of one per element).
         */
        boolean rawHalf;

        Scratch(KvBlockPool pool, int rows) {
            this.rows = rows;
            logits = new float[rows * pool.keyStride()];
            queryRows = new float[rows * pool.headDim()];
            validTokens = new int[rows];
            rowOffsets = new int[rows];
        }

        boolean fits(KvBlockPool pool, int neededRows) {
            return rows >= neededRows && queryRows.length == rows * pool.headDim() && logits.length == rows * pool.keyStride();
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();

    static Scratch scratch(KvBlockPool pool, int rows) {
        Scratch s = SCRATCH.get();
        if (s == null || !s.fits(pool, rows)) {
            s = new Scratch(pool, Math.max(rows, s == null ? 0 : s.rows));
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * Copies {@code rows} query rows into {@code s.queryRows}, times 1/sqrt(headDim), and for FP16
     * pools also times 2^112 when that stays finite (then {@code s.rawHalf} is set).
     *
     * @param rowOffsets {@code [rows]} offset of each row in {@code queries}
     */
    static void loadQueries(KvBlockPool pool, Scratch s, float[] queries, int[] rowOffsets, int rows) {
        int headDim = pool.headDim();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float largest = 0;
        for (int r = 0; r < rows; r++) {
            for (int d = 0; d < headDim; d++) {
                float q = queries[rowOffsets[r] + d] * scale;
                s.queryRows[r * headDim + d] = q;
                largest = Math.max(largest, Math.abs(q));
            }
        }
        s.rawHalf = pool.dtype() == KvDtype.FP16 && largest <= FP16_RAW_QUERY_LIMIT;
        if (s.rawHalf) {
            for (int i = 0; i < rows * headDim; i++) s.queryRows[i] *= FP16_RAW_SCALE;
        }
    }

    /** Resets the online-softmax state of {@code rows} rows. */
    static void initState(float[] max, int maxOffset, float[] sum, int sumOffset, float[] acc, int accOffset, int rows, int valueStride) {
        for (int r = 0; r < rows; r++) {
            max[maxOffset + r] = Float.NEGATIVE_INFINITY;
            sum[sumOffset + r] = 0f;
        }
        java.util.Arrays.fill(acc, accOffset, accOffset + rows * valueStride, 0f);
    }

    /**
     * Folds one block into the state of {@code rows} query rows held in {@code s.queryRows}.
     *
     * @param blockStart  position of the block's first token
     * @param blockTokens valid tokens in the block (the last block may be partial)
     * @param rowLimit    per-row last visible position ({@code [rows]}), or null if all tokens are visible
     */
    static void attendBlock(KvBlockPool pool, int blockId, int blockStart, int blockTokens, Scratch s, int rows,
                            int[] rowLimit, float[] max, int maxOffset, float[] sum, int sumOffset,
                            float[] acc, int accOffset) {
        int keyStride = pool.keyStride(), valueStride = pool.valueStride();
        int maxValid = 0;
        for (int r = 0; r < rows; r++) {
            int n = rowLimit == null ? blockTokens : Math.min(blockTokens, rowLimit[r] - blockStart + 1);
            s.validTokens[r] = Math.max(n, 0);
            maxValid = Math.max(maxValid, s.validTokens[r]);
        }
        if (maxValid == 0) return;
        int mode = mode(pool, s);
        blockLogits(pool, blockId, mode, roundUp(maxValid, LANES), s, rows);
        softmaxAndValues(pool, blockId, mode, s, rows, max, maxOffset, sum, sumOffset, acc, accOffset);
    }

    /**
     * {@link #attendBlock} for a full block whose logits are given ({@code logits[offset + r * blockSize + t]},
     * as {@link #logMass} computed them for the same query rows), decode only: reads the block's values, not its keys.
     */
    static void attendBlockWithLogits(KvBlockPool pool, int blockId, float[] logits, int offset, Scratch s, int rows,
                                      float[] max, int maxOffset, float[] sum, int sumOffset, float[] acc, int accOffset) {
        int blockSize = pool.blockSize(), keyStride = pool.keyStride();
        for (int r = 0; r < rows; r++) {
            System.arraycopy(logits, offset + r * blockSize, s.logits, r * keyStride, blockSize);
            s.validTokens[r] = blockSize;
        }
        softmaxAndValues(pool, blockId, mode(pool, s), s, rows, max, maxOffset, sum, sumOffset, acc, accOffset);
    }

    /** The softmax step and value sums of a block whose logits are in {@code s.logits} (valid tokens per row in {@code s.validTokens}). */
    private static void softmaxAndValues(KvBlockPool pool, int blockId, int mode, Scratch s, int rows, float[] max, int maxOffset,
                                         float[] sum, int sumOffset, float[] acc, int accOffset) {
        int keyStride = pool.keyStride(), valueStride = pool.valueStride();
        float[] values = pool.dataF32(blockId);           // the block's slab, one of them null
        short[] valuesHalf = pool.dataHalf(blockId);
        byte[] valuesInt8 = pool.dataInt8(blockId);
        int valueBase = pool.valueOffset(blockId);
        float[] logits = s.logits;
        boolean anyValid = false;
        for (int row = 0; row < rows; row++) {
            anyValid |= softmaxStep(logits, row * keyStride, s.validTokens[row], keyStride,
                    mode == MODE_FP16_RAW ? FP16_RAW_SCALE : 1f, max, maxOffset + row,
                    sum, sumOffset + row, acc, accOffset + row * valueStride, valueStride);
        }
        if (!anyValid) return;
        if (mode == MODE_INT8) scaleRows(logits, keyStride, rows, keyStride, pool.scales(blockId), pool.scaleOffset(blockId) + keyStride);
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            accumulateFourRows(values, valuesHalf, valuesInt8, mode, valueBase, valueStride, logits, keyStride, r, maxTokens(s.validTokens, r, 4), acc, accOffset);
        }
        if (rows - r == 3) {
            accumulateThreeRows(values, valuesHalf, valuesInt8, mode, valueBase, valueStride, logits, keyStride, r, maxTokens(s.validTokens, r, 3), acc, accOffset);
        } else {
            for (; r < rows; r++) accumulateOneRow(values, valuesHalf, valuesInt8, mode, valueBase, valueStride, logits, keyStride, r, s.validTokens[r], acc, accOffset);
        }
    }

    /**
     * Exact log attention mass of one block for {@code rows} query rows held in {@code s.queryRows}:
     * {@code out[outOffset + r * outStride] = log sum_t exp(q_r . k_t)} over the block's first
     * {@code blockTokens} keys (queries pre-scaled, so these are the softmax logits). Reads the keys
     * only, with the same logit loops as {@link #attendBlock}; also copies the logits to
     * {@code logitsOut[logitsOffset + r * blockTokens + t]} when it is not null.
     */
    static void logMass(KvBlockPool pool, int blockId, int blockTokens, Scratch s, int rows, float[] out, int outOffset, int outStride,
                        float[] logitsOut, int logitsOffset) {
        int keyStride = pool.keyStride(), tokenChunks = roundUp(blockTokens, LANES);
        float[] logits = s.logits;
        blockLogits(pool, blockId, mode(pool, s), tokenChunks, s, rows);
        for (int row = 0; row < rows; row++) {
            int offset = row * keyStride;
            if (logitsOut != null) System.arraycopy(logits, offset, logitsOut, logitsOffset + row * blockTokens, blockTokens);
            for (int t = blockTokens; t < tokenChunks; t++) logits[offset + t] = Float.NEGATIVE_INFINITY;
            FloatVector maxV = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (int t = 0; t < tokenChunks; t += LANES) maxV = maxV.max(FloatVector.fromArray(SPECIES, logits, offset + t));
            float max = maxV.reduceLanes(VectorOperators.MAX);
            FloatVector sumV = FloatVector.zero(SPECIES);
            for (int t = 0; t < tokenChunks; t += LANES) {
                sumV = sumV.add(Lanes.exp(FloatVector.fromArray(SPECIES, logits, offset + t).sub(max)));
            }
            // through an array: with INT8 scaling this method outgrows the JIT's inlining budget before
            // this call, and a vector passed to a call left out of line is boxed (at every step)
            sumV.intoArray(s.lanes, 0);
            out[outOffset + row * outStride] = max + (float) Math.log(Lanes.sumOfLanes(s.lanes, LANES));
        }
    }

    /** How {@link #load} reads this pool's elements (FP16 raw when the queries were pre-scaled, {@link Scratch#rawHalf}). */
    private static int mode(KvBlockPool pool, Scratch s) {
        return switch (pool.dtype()) {
            case FP32 -> MODE_FP32;
            case FP16 -> s.rawHalf ? MODE_FP16_RAW : MODE_FP16;
            case BF16 -> MODE_BF16;
            case INT8 -> MODE_INT8;
        };
    }

    /** {@code s.logits[row][t] = q_row . k_t} for the block's first {@code tokenChunks} keys (a multiple of LANES), every row. */
    private static void blockLogits(KvBlockPool pool, int blockId, int mode, int tokenChunks, Scratch s, int rows) {
        float[] keys = pool.dataF32(blockId);
        short[] keysHalf = pool.dataHalf(blockId);
        byte[] keysInt8 = pool.dataInt8(blockId);
        int keyBase = pool.keyOffset(blockId), keyStride = pool.keyStride(), headDim = pool.headDim();
        int r = 0;
        for (; r + 4 <= rows; r += 4) logitsFourRows(keys, keysHalf, keysInt8, mode, keyBase, keyStride, headDim, s.queryRows, r, tokenChunks, s.logits);
        if (rows - r == 3) {
            logitsThreeRows(keys, keysHalf, keysInt8, mode, keyBase, keyStride, headDim, s.queryRows, r, tokenChunks, s.logits);
        } else {
            for (; r < rows; r++) logitsOneRow(keys, keysHalf, keysInt8, mode, keyBase, keyStride, headDim, s.queryRows, r, tokenChunks, s.logits);
        }
        if (mode == MODE_INT8) scaleRows(s.logits, keyStride, rows, tokenChunks, pool.scales(blockId), pool.scaleOffset(blockId));
    }

    /**
     * INT8: {@code data[r * rowStride + t] *= scales[scaleOffset + t]} for t < length (a multiple of
     * LANES): the tokens' scales, applied once per logit or probability rather than per element.
     */
    private static void scaleRows(float[] data, int rowStride, int rows, int length, float[] scales, int scaleOffset) {
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < length; t += LANES) {
                FloatVector.fromArray(SPECIES, data, r * rowStride + t).mul(FloatVector.fromArray(SPECIES, scales, scaleOffset + t)).intoArray(data, r * rowStride + t);
            }
        }
    }

    private static int maxTokens(int[] validTokens, int first, int count) {
        int tokens = 0;
        for (int i = 0; i < count; i++) tokens = Math.max(tokens, validTokens[first + i]);
        return tokens;
    }

    /**
     * LANES stored elements from {@code index} as fp32. FP16 is widened in registers: the sign-
     * extended code shifted left by 13, masked to sign + exponent + mantissa, is an fp32 whose
     * value times 2^112 is the fp16 value (exact, subnormals included; stored values are finite).
     * BF16 is the upper half of an fp32. MODE_FP16_RAW skips the 2^112 (see {@link Scratch#rawHalf}).
     * INT8 gives the codes; the caller multiplies by the tokens' scales ({@link #scaleRows}).
     */
    private static FloatVector load(float[] f32, short[] half, byte[] int8, int mode, int index) {
        if (mode == MODE_FP32) return FloatVector.fromArray(SPECIES, f32, index);
        if (mode == MODE_INT8) return (FloatVector) ByteVector.fromArray(BYTE_SPECIES, int8, index).convertShape(VectorOperators.B2F, SPECIES, 0);
        IntVector bits = (IntVector) ShortVector.fromArray(HALF_SPECIES, half, index).convertShape(VectorOperators.S2I, INT_SPECIES, 0);
        if (mode == MODE_FP16) {
            return bits.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(FP16_RAW_SCALE);
        }
        if (mode == MODE_FP16_RAW) return bits.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    // ---------------------------------------------------------------- logits: q . k for 4, 3 or 1 rows

    /**
     * logits[row][t] = q_row . k_t for four rows at once. The key block is walked row by row (one
     * transposed key row = one channel d for 4 x LANES tokens), so it streams sequentially, and 16
     * independent accumulators (4 rows x 4 token chunks) keep both FMA ports busy.
     */
    private static void logitsFourRows(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim, float[] queryRows, int firstRow,
                                       int tokenChunks, float[] logits) {
        int q0 = firstRow * headDim, q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        int l0 = firstRow * keyStride, l1 = l0 + keyStride, l2 = l1 + keyStride, l3 = l2 + keyStride;
        int c = 0;
        for (; c + 4 * LANES <= tokenChunks; c += 4 * LANES) {
            FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int d = 0; d < headDim; d++) {
                int row = base + d * keyStride + c;
                FloatVector k0 = load(keys, keysHalf, keysInt8, mode, row), k1 = load(keys, keysHalf, keysInt8, mode, row + LANES);
                FloatVector k2 = load(keys, keysHalf, keysInt8, mode, row + 2 * LANES), k3 = load(keys, keysHalf, keysInt8, mode, row + 3 * LANES);
                FloatVector b = FloatVector.broadcast(SPECIES, queryRows[q0 + d]);
                a00 = k0.fma(b, a00); a01 = k1.fma(b, a01); a02 = k2.fma(b, a02); a03 = k3.fma(b, a03);
                b = FloatVector.broadcast(SPECIES, queryRows[q1 + d]);
                a10 = k0.fma(b, a10); a11 = k1.fma(b, a11); a12 = k2.fma(b, a12); a13 = k3.fma(b, a13);
                b = FloatVector.broadcast(SPECIES, queryRows[q2 + d]);
                a20 = k0.fma(b, a20); a21 = k1.fma(b, a21); a22 = k2.fma(b, a22); a23 = k3.fma(b, a23);
                b = FloatVector.broadcast(SPECIES, queryRows[q3 + d]);
                a30 = k0.fma(b, a30); a31 = k1.fma(b, a31); a32 = k2.fma(b, a32); a33 = k3.fma(b, a33);
            }
            a00.intoArray(logits, l0 + c); a01.intoArray(logits, l0 + c + LANES); a02.intoArray(logits, l0 + c + 2 * LANES); a03.intoArray(logits, l0 + c + 3 * LANES);
            a10.intoArray(logits, l1 + c); a11.intoArray(logits, l1 + c + LANES); a12.intoArray(logits, l1 + c + 2 * LANES); a13.intoArray(logits, l1 + c + 3 * LANES);
            a20.intoArray(logits, l2 + c); a21.intoArray(logits, l2 + c + LANES); a22.intoArray(logits, l2 + c + 2 * LANES); a23.intoArray(logits, l2 + c + 3 * LANES);
            a30.intoArray(logits, l3 + c); a31.intoArray(logits, l3 + c + LANES); a32.intoArray(logits, l3 + c + 2 * LANES); a33.intoArray(logits, l3 + c + 3 * LANES);
        }
        if (c + 2 * LANES <= tokenChunks) {  // two chunks left (e.g. block 32): 8 accumulators, not 4 dependent chains
            c = logitsFourRowsTwoChunks(keys, keysHalf, keysInt8, mode, base, keyStride, headDim, queryRows, q0, l0, keyStride, c, logits);
        }
        if (c < tokenChunks) logitsFourRowsLastChunk(keys, keysHalf, keysInt8, mode, base, keyStride, headDim, queryRows, q0, l0, c, logits);
    }

    /**
     * The last token chunk of {@link #logitsFourRows} (a partial block: the open one, the prefill's
     * diagonal). A method of its own so that, where the JIT inlines the kernel into a large caller
     * and runs out of node budget, the call it leaves is this one (arrays in and out) rather than
     * {@link #load}, whose returned vector it would box at every key row.
     */
    private static void logitsFourRowsLastChunk(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim,
                                                float[] queryRows, int q0, int l0, int c, float[] logits) {
        int q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        int l1 = l0 + keyStride, l2 = l1 + keyStride, l3 = l2 + keyStride;
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < headDim; d++) {
            FloatVector k = load(keys, keysHalf, keysInt8, mode, base + d * keyStride + c);
            a0 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q0 + d]), a0);
            a1 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q1 + d]), a1);
            a2 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q2 + d]), a2);
            a3 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q3 + d]), a3);
        }
        a0.intoArray(logits, l0 + c);
        a1.intoArray(logits, l1 + c);
        a2.intoArray(logits, l2 + c);
        a3.intoArray(logits, l3 + c);
    }

    /** {@link #logitsFourRows} for a group of three rows (12 accumulators). */
    private static void logitsThreeRows(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim, float[] queryRows, int firstRow,
                                        int tokenChunks, float[] logits) {
        int q0 = firstRow * headDim, q1 = q0 + headDim, q2 = q1 + headDim;
        int l0 = firstRow * keyStride, l1 = l0 + keyStride, l2 = l1 + keyStride;
        int c = 0;
        for (; c + 4 * LANES <= tokenChunks; c += 4 * LANES) {
            FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            for (int d = 0; d < headDim; d++) {
                int row = base + d * keyStride + c;
                FloatVector k0 = load(keys, keysHalf, keysInt8, mode, row), k1 = load(keys, keysHalf, keysInt8, mode, row + LANES);
                FloatVector k2 = load(keys, keysHalf, keysInt8, mode, row + 2 * LANES), k3 = load(keys, keysHalf, keysInt8, mode, row + 3 * LANES);
                FloatVector b = FloatVector.broadcast(SPECIES, queryRows[q0 + d]);
                a00 = k0.fma(b, a00); a01 = k1.fma(b, a01); a02 = k2.fma(b, a02); a03 = k3.fma(b, a03);
                b = FloatVector.broadcast(SPECIES, queryRows[q1 + d]);
                a10 = k0.fma(b, a10); a11 = k1.fma(b, a11); a12 = k2.fma(b, a12); a13 = k3.fma(b, a13);
                b = FloatVector.broadcast(SPECIES, queryRows[q2 + d]);
                a20 = k0.fma(b, a20); a21 = k1.fma(b, a21); a22 = k2.fma(b, a22); a23 = k3.fma(b, a23);
            }
            a00.intoArray(logits, l0 + c); a01.intoArray(logits, l0 + c + LANES); a02.intoArray(logits, l0 + c + 2 * LANES); a03.intoArray(logits, l0 + c + 3 * LANES);
            a10.intoArray(logits, l1 + c); a11.intoArray(logits, l1 + c + LANES); a12.intoArray(logits, l1 + c + 2 * LANES); a13.intoArray(logits, l1 + c + 3 * LANES);
            a20.intoArray(logits, l2 + c); a21.intoArray(logits, l2 + c + LANES); a22.intoArray(logits, l2 + c + 2 * LANES); a23.intoArray(logits, l2 + c + 3 * LANES);
        }
        if (c + 2 * LANES <= tokenChunks) {  // two chunks left (e.g. block 32): 6 accumulators, not 3 dependent chains
            c = logitsThreeRowsTwoChunks(keys, keysHalf, keysInt8, mode, base, keyStride, headDim, queryRows, q0, l0, c, logits);
        }
        if (c < tokenChunks) logitsThreeRowsLastChunk(keys, keysHalf, keysInt8, mode, base, keyStride, headDim, queryRows, q0, l0, c, logits);
    }

    /** The last token chunk of {@link #logitsThreeRows}: a method of its own as {@link #logitsFourRowsLastChunk} is. */
    private static void logitsThreeRowsLastChunk(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim,
                                                 float[] queryRows, int q0, int l0, int c, float[] logits) {
        int q1 = q0 + headDim, q2 = q1 + headDim;
        int l1 = l0 + keyStride, l2 = l1 + keyStride;
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0;
        for (int d = 0; d < headDim; d++) {
            FloatVector k = load(keys, keysHalf, keysInt8, mode, base + d * keyStride + c);
            a0 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q0 + d]), a0);
            a1 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q1 + d]), a1);
            a2 = k.fma(FloatVector.broadcast(SPECIES, queryRows[q2 + d]), a2);
        }
        a0.intoArray(logits, l0 + c);
        a1.intoArray(logits, l1 + c);
        a2.intoArray(logits, l2 + c);
    }

    /** {@link #logitsFourRows} for one row (4 accumulators: one per token chunk). */
    private static void logitsOneRow(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim, float[] queryRows, int row,
                                     int tokenChunks, float[] logits) {
        int q = row * headDim, l = row * keyStride;
        int c = 0;
        for (; c + 4 * LANES <= tokenChunks; c += 4 * LANES) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                int at = base + d * keyStride + c;
                FloatVector b = FloatVector.broadcast(SPECIES, queryRows[q + d]);
                a0 = load(keys, keysHalf, keysInt8, mode, at).fma(b, a0);
                a1 = load(keys, keysHalf, keysInt8, mode, at + LANES).fma(b, a1);
                a2 = load(keys, keysHalf, keysInt8, mode, at + 2 * LANES).fma(b, a2);
                a3 = load(keys, keysHalf, keysInt8, mode, at + 3 * LANES).fma(b, a3);
            }
            a0.intoArray(logits, l + c); a1.intoArray(logits, l + c + LANES); a2.intoArray(logits, l + c + 2 * LANES); a3.intoArray(logits, l + c + 3 * LANES);
        }
        if (c + 2 * LANES <= tokenChunks) {  // two chunks left: two independent chains
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0;
            for (int d = 0; d < headDim; d++) {
                int at = base + d * keyStride + c;
                FloatVector b = FloatVector.broadcast(SPECIES, queryRows[q + d]);
                a0 = load(keys, keysHalf, keysInt8, mode, at).fma(b, a0);
                a1 = load(keys, keysHalf, keysInt8, mode, at + LANES).fma(b, a1);
            }
            a0.intoArray(logits, l + c);
            a1.intoArray(logits, l + c + LANES);
            c += 2 * LANES;
        }
        for (; c < tokenChunks; c += LANES) {
            FloatVector a = FloatVector.zero(SPECIES);
            for (int d = 0; d < headDim; d++) a = load(keys, keysHalf, keysInt8, mode, base + d * keyStride + c).fma(FloatVector.broadcast(SPECIES, queryRows[q + d]), a);
            a.intoArray(logits, l + c);
        }
    }


    /**
     * Two token chunks of {@link #logitsFourRows} (kept apart so that the main pass stays small
     * enough for the JIT to inline whole); returns the next chunk.
     */
    private static int logitsFourRowsTwoChunks(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim, float[] queryRows,
                                               int q0, int l0, int rowStride, int c, float[] logits) {
        int q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        int l1 = l0 + rowStride, l2 = l1 + rowStride, l3 = l2 + rowStride;
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int d = 0; d < headDim; d++) {
            int row = base + d * keyStride + c;
            FloatVector k0 = load(keys, keysHalf, keysInt8, mode, row), k1 = load(keys, keysHalf, keysInt8, mode, row + LANES);
            FloatVector b = FloatVector.broadcast(SPECIES, queryRows[q0 + d]);
            a00 = k0.fma(b, a00); a01 = k1.fma(b, a01);
            b = FloatVector.broadcast(SPECIES, queryRows[q1 + d]);
            a10 = k0.fma(b, a10); a11 = k1.fma(b, a11);
            b = FloatVector.broadcast(SPECIES, queryRows[q2 + d]);
            a20 = k0.fma(b, a20); a21 = k1.fma(b, a21);
            b = FloatVector.broadcast(SPECIES, queryRows[q3 + d]);
            a30 = k0.fma(b, a30); a31 = k1.fma(b, a31);
        }
        a00.intoArray(logits, l0 + c); a01.intoArray(logits, l0 + c + LANES);
        a10.intoArray(logits, l1 + c); a11.intoArray(logits, l1 + c + LANES);
        a20.intoArray(logits, l2 + c); a21.intoArray(logits, l2 + c + LANES);
        a30.intoArray(logits, l3 + c); a31.intoArray(logits, l3 + c + LANES);
        return c + 2 * LANES;
    }

    /** Two token chunks of {@link #logitsThreeRows}; returns the next chunk. */
    private static int logitsThreeRowsTwoChunks(float[] keys, short[] keysHalf, byte[] keysInt8, int mode, int base, int keyStride, int headDim, float[] queryRows,
                                                int q0, int l0, int c, float[] logits) {
        int q1 = q0 + headDim, q2 = q1 + headDim;
        int l1 = l0 + keyStride, l2 = l1 + keyStride;
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        for (int d = 0; d < headDim; d++) {
            int row = base + d * keyStride + c;
            FloatVector k0 = load(keys, keysHalf, keysInt8, mode, row), k1 = load(keys, keysHalf, keysInt8, mode, row + LANES);
            FloatVector b = FloatVector.broadcast(SPECIES, queryRows[q0 + d]);
            a00 = k0.fma(b, a00); a01 = k1.fma(b, a01);
            b = FloatVector.broadcast(SPECIES, queryRows[q1 + d]);
            a10 = k0.fma(b, a10); a11 = k1.fma(b, a11);
            b = FloatVector.broadcast(SPECIES, queryRows[q2 + d]);
            a20 = k0.fma(b, a20); a21 = k1.fma(b, a21);
        }
        a00.intoArray(logits, l0 + c); a01.intoArray(logits, l0 + c + LANES);
        a10.intoArray(logits, l1 + c); a11.intoArray(logits, l1 + c + LANES);
        a20.intoArray(logits, l2 + c); a21.intoArray(logits, l2 + c + LANES);
        return c + 2 * LANES;
    }

    // ---------------------------------------------------------------- softmax

    /**
     * Online-softmax update of one row: turns its logits into storeScale * exp(logit - newMax) in place (zero
     * past {@code valid}), rescales the running sum and accumulator. Returns false when the row
     * sees no token of this block.
     */
    private static boolean softmaxStep(float[] logits, int offset, int valid, int keyStride, float storeScale, float[] max, int maxIndex,
                                       float[] sum, int sumIndex, float[] acc, int accOffset, int valueStride) {
        if (valid == 0) {
            java.util.Arrays.fill(logits, offset, offset + keyStride, 0f);
            return false;
        }
        int chunks = roundUp(valid, LANES);
        for (int t = valid; t < chunks; t++) logits[offset + t] = Float.NEGATIVE_INFINITY;
        FloatVector blockMaxV = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        for (int t = 0; t < chunks; t += LANES) blockMaxV = blockMaxV.max(FloatVector.fromArray(SPECIES, logits, offset + t));
        float blockMax = blockMaxV.reduceLanes(VectorOperators.MAX);
        float oldMax = max[maxIndex];
        float newMax = Math.max(oldMax, blockMax);
        FloatVector sumV = FloatVector.zero(SPECIES);
        for (int t = 0; t < chunks; t += LANES) {
            FloatVector p = Lanes.exp(FloatVector.fromArray(SPECIES, logits, offset + t).sub(newMax));
            p.mul(storeScale).intoArray(logits, offset + t);
            sumV = sumV.add(p);
        }
        for (int t = chunks; t < keyStride; t++) logits[offset + t] = 0f;
        float blockSum = Lanes.sum(sumV);
        if (newMax > oldMax && oldMax != Float.NEGATIVE_INFINITY) {
            float alpha = (float) Math.exp(oldMax - newMax);
            sum[sumIndex] *= alpha;
            for (int d = 0; d < valueStride; d += LANES) {
                FloatVector.fromArray(SPECIES, acc, accOffset + d).mul(alpha).intoArray(acc, accOffset + d);
            }
        }
        max[maxIndex] = newMax;
        sum[sumIndex] += blockSum;
        return true;
    }

    // ---------------------------------------------------------------- values: acc += p . v for 4, 3 or 1 rows

    /**
     * acc[row] += sum_t p[row][t] * v_t for four rows: each value chunk is loaded once per group,
     * and four value chunks at a time give 16 independent accumulators.
     */
    private static void accumulateFourRows(float[] values, short[] valuesHalf, byte[] valuesInt8, int mode, int base, int valueStride, float[] probabilities, int keyStride,
                                           int firstRow, int tokens, float[] acc, int accOffset) {
        int p0 = firstRow * keyStride, p1 = p0 + keyStride, p2 = p1 + keyStride, p3 = p2 + keyStride;
        int o0 = accOffset + firstRow * valueStride, o1 = o0 + valueStride, o2 = o1 + valueStride, o3 = o2 + valueStride;
        int c = 0;
        for (; c + 4 * LANES <= valueStride; c += 4 * LANES) {
            FloatVector a00 = FloatVector.fromArray(SPECIES, acc, o0 + c), a01 = FloatVector.fromArray(SPECIES, acc, o0 + c + LANES), a02 = FloatVector.fromArray(SPECIES, acc, o0 + c + 2 * LANES), a03 = FloatVector.fromArray(SPECIES, acc, o0 + c + 3 * LANES);
            FloatVector a10 = FloatVector.fromArray(SPECIES, acc, o1 + c), a11 = FloatVector.fromArray(SPECIES, acc, o1 + c + LANES), a12 = FloatVector.fromArray(SPECIES, acc, o1 + c + 2 * LANES), a13 = FloatVector.fromArray(SPECIES, acc, o1 + c + 3 * LANES);
            FloatVector a20 = FloatVector.fromArray(SPECIES, acc, o2 + c), a21 = FloatVector.fromArray(SPECIES, acc, o2 + c + LANES), a22 = FloatVector.fromArray(SPECIES, acc, o2 + c + 2 * LANES), a23 = FloatVector.fromArray(SPECIES, acc, o2 + c + 3 * LANES);
            FloatVector a30 = FloatVector.fromArray(SPECIES, acc, o3 + c), a31 = FloatVector.fromArray(SPECIES, acc, o3 + c + LANES), a32 = FloatVector.fromArray(SPECIES, acc, o3 + c + 2 * LANES), a33 = FloatVector.fromArray(SPECIES, acc, o3 + c + 3 * LANES);
            for (int t = 0; t < tokens; t++) {
                int row = base + t * valueStride + c;
                FloatVector v0 = load(values, valuesHalf, valuesInt8, mode, row), v1 = load(values, valuesHalf, valuesInt8, mode, row + LANES), v2 = load(values, valuesHalf, valuesInt8, mode, row + 2 * LANES), v3 = load(values, valuesHalf, valuesInt8, mode, row + 3 * LANES);
                FloatVector b = FloatVector.broadcast(SPECIES, probabilities[p0 + t]);
                a00 = v0.fma(b, a00); a01 = v1.fma(b, a01); a02 = v2.fma(b, a02); a03 = v3.fma(b, a03);
                b = FloatVector.broadcast(SPECIES, probabilities[p1 + t]);
                a10 = v0.fma(b, a10); a11 = v1.fma(b, a11); a12 = v2.fma(b, a12); a13 = v3.fma(b, a13);
                b = FloatVector.broadcast(SPECIES, probabilities[p2 + t]);
                a20 = v0.fma(b, a20); a21 = v1.fma(b, a21); a22 = v2.fma(b, a22); a23 = v3.fma(b, a23);
                b = FloatVector.broadcast(SPECIES, probabilities[p3 + t]);
                a30 = v0.fma(b, a30); a31 = v1.fma(b, a31); a32 = v2.fma(b, a32); a33 = v3.fma(b, a33);
            }
            a00.intoArray(acc, o0 + c); a01.intoArray(acc, o0 + c + LANES); a02.intoArray(acc, o0 + c + 2 * LANES); a03.intoArray(acc, o0 + c + 3 * LANES);
            a10.intoArray(acc, o1 + c); a11.intoArray(acc, o1 + c + LANES); a12.intoArray(acc, o1 + c + 2 * LANES); a13.intoArray(acc, o1 + c + 3 * LANES);
            a20.intoArray(acc, o2 + c); a21.intoArray(acc, o2 + c + LANES); a22.intoArray(acc, o2 + c + 2 * LANES); a23.intoArray(acc, o2 + c + 3 * LANES);
            a30.intoArray(acc, o3 + c); a31.intoArray(acc, o3 + c + LANES); a32.intoArray(acc, o3 + c + 2 * LANES); a33.intoArray(acc, o3 + c + 3 * LANES);
        }
        for (; c < valueStride; c += LANES) {  // fewer than 4 chunks left
            FloatVector a0 = FloatVector.fromArray(SPECIES, acc, o0 + c), a1 = FloatVector.fromArray(SPECIES, acc, o1 + c), a2 = FloatVector.fromArray(SPECIES, acc, o2 + c), a3 = FloatVector.fromArray(SPECIES, acc, o3 + c);
            for (int t = 0; t < tokens; t++) {
                FloatVector v = load(values, valuesHalf, valuesInt8, mode, base + t * valueStride + c);
                a0 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p0 + t]), a0);
                a1 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p1 + t]), a1);
                a2 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p2 + t]), a2);
                a3 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p3 + t]), a3);
            }
            a0.intoArray(acc, o0 + c);
            a1.intoArray(acc, o1 + c);
            a2.intoArray(acc, o2 + c);
            a3.intoArray(acc, o3 + c);
        }
    }

    /** {@link #accumulateFourRows} for a group of three rows. */
    private static void accumulateThreeRows(float[] values, short[] valuesHalf, byte[] valuesInt8, int mode, int base, int valueStride, float[] probabilities, int keyStride,
                                            int firstRow, int tokens, float[] acc, int accOffset) {
        int p0 = firstRow * keyStride, p1 = p0 + keyStride, p2 = p1 + keyStride;
        int o0 = accOffset + firstRow * valueStride, o1 = o0 + valueStride, o2 = o1 + valueStride;
        int c = 0;
        for (; c + 4 * LANES <= valueStride; c += 4 * LANES) {
            FloatVector a00 = FloatVector.fromArray(SPECIES, acc, o0 + c), a01 = FloatVector.fromArray(SPECIES, acc, o0 + c + LANES), a02 = FloatVector.fromArray(SPECIES, acc, o0 + c + 2 * LANES), a03 = FloatVector.fromArray(SPECIES, acc, o0 + c + 3 * LANES);
            FloatVector a10 = FloatVector.fromArray(SPECIES, acc, o1 + c), a11 = FloatVector.fromArray(SPECIES, acc, o1 + c + LANES), a12 = FloatVector.fromArray(SPECIES, acc, o1 + c + 2 * LANES), a13 = FloatVector.fromArray(SPECIES, acc, o1 + c + 3 * LANES);
            FloatVector a20 = FloatVector.fromArray(SPECIES, acc, o2 + c), a21 = FloatVector.fromArray(SPECIES, acc, o2 + c + LANES), a22 = FloatVector.fromArray(SPECIES, acc, o2 + c + 2 * LANES), a23 = FloatVector.fromArray(SPECIES, acc, o2 + c + 3 * LANES);
            for (int t = 0; t < tokens; t++) {
                int row = base + t * valueStride + c;
                FloatVector v0 = load(values, valuesHalf, valuesInt8, mode, row), v1 = load(values, valuesHalf, valuesInt8, mode, row + LANES), v2 = load(values, valuesHalf, valuesInt8, mode, row + 2 * LANES), v3 = load(values, valuesHalf, valuesInt8, mode, row + 3 * LANES);
                FloatVector b = FloatVector.broadcast(SPECIES, probabilities[p0 + t]);
                a00 = v0.fma(b, a00); a01 = v1.fma(b, a01); a02 = v2.fma(b, a02); a03 = v3.fma(b, a03);
                b = FloatVector.broadcast(SPECIES, probabilities[p1 + t]);
                a10 = v0.fma(b, a10); a11 = v1.fma(b, a11); a12 = v2.fma(b, a12); a13 = v3.fma(b, a13);
                b = FloatVector.broadcast(SPECIES, probabilities[p2 + t]);
                a20 = v0.fma(b, a20); a21 = v1.fma(b, a21); a22 = v2.fma(b, a22); a23 = v3.fma(b, a23);
            }
            a00.intoArray(acc, o0 + c); a01.intoArray(acc, o0 + c + LANES); a02.intoArray(acc, o0 + c + 2 * LANES); a03.intoArray(acc, o0 + c + 3 * LANES);
            a10.intoArray(acc, o1 + c); a11.intoArray(acc, o1 + c + LANES); a12.intoArray(acc, o1 + c + 2 * LANES); a13.intoArray(acc, o1 + c + 3 * LANES);
            a20.intoArray(acc, o2 + c); a21.intoArray(acc, o2 + c + LANES); a22.intoArray(acc, o2 + c + 2 * LANES); a23.intoArray(acc, o2 + c + 3 * LANES);
        }
        for (; c < valueStride; c += LANES) {
            FloatVector a0 = FloatVector.fromArray(SPECIES, acc, o0 + c), a1 = FloatVector.fromArray(SPECIES, acc, o1 + c), a2 = FloatVector.fromArray(SPECIES, acc, o2 + c);
            for (int t = 0; t < tokens; t++) {
                FloatVector v = load(values, valuesHalf, valuesInt8, mode, base + t * valueStride + c);
                a0 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p0 + t]), a0);
                a1 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p1 + t]), a1);
                a2 = v.fma(FloatVector.broadcast(SPECIES, probabilities[p2 + t]), a2);
            }
            a0.intoArray(acc, o0 + c);
            a1.intoArray(acc, o1 + c);
            a2.intoArray(acc, o2 + c);
        }
    }

    /** {@link #accumulateFourRows} for one row. */
    private static void accumulateOneRow(float[] values, short[] valuesHalf, byte[] valuesInt8, int mode, int base, int valueStride, float[] probabilities, int keyStride,
                                         int row, int tokens, float[] acc, int accOffset) {
        int p = row * keyStride, o = accOffset + row * valueStride;
        int c = 0;
        for (; c + 4 * LANES <= valueStride; c += 4 * LANES) {
            FloatVector a0 = FloatVector.fromArray(SPECIES, acc, o + c), a1 = FloatVector.fromArray(SPECIES, acc, o + c + LANES), a2 = FloatVector.fromArray(SPECIES, acc, o + c + 2 * LANES), a3 = FloatVector.fromArray(SPECIES, acc, o + c + 3 * LANES);
            for (int t = 0; t < tokens; t++) {
                int at = base + t * valueStride + c;
                FloatVector b = FloatVector.broadcast(SPECIES, probabilities[p + t]);
                a0 = load(values, valuesHalf, valuesInt8, mode, at).fma(b, a0);
                a1 = load(values, valuesHalf, valuesInt8, mode, at + LANES).fma(b, a1);
                a2 = load(values, valuesHalf, valuesInt8, mode, at + 2 * LANES).fma(b, a2);
                a3 = load(values, valuesHalf, valuesInt8, mode, at + 3 * LANES).fma(b, a3);
            }
            a0.intoArray(acc, o + c); a1.intoArray(acc, o + c + LANES); a2.intoArray(acc, o + c + 2 * LANES); a3.intoArray(acc, o + c + 3 * LANES);
        }
        for (; c < valueStride; c += LANES) {
            FloatVector a = FloatVector.fromArray(SPECIES, acc, o + c);
            for (int t = 0; t < tokens; t++) a = load(values, valuesHalf, valuesInt8, mode, base + t * valueStride + c).fma(FloatVector.broadcast(SPECIES, probabilities[p + t]), a);
            a.intoArray(acc, o + c);
        }
    }
}
