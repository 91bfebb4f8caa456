package ai.aether.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static ai.aether.kernels.quant.VectorShapes.BYTES;
import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/**
 * A Q4_0 or Q4_1 matrix repacked once at load with one <b>row per vector lane</b>: rows go in
 * groups of 16 (8 without AVX-512), and for each group and 32-value block one run of bytes holds
 * the group's fp16 scales {@code d}, its fp16 minimums {@code m} (Q4_1; Q4_0's is -8 d) and its
 * nibbles, interleaved so that one load of 16 (8) bytes gives, in lane i, row i's values at
 * columns k and k+16 (low and high nibble, as in ggml's block). That is the file's 20 (18) bytes
 * per row and block, read as one stream; the scales are widened in registers, exactly.
 *
 * <p>Why lanes are rows. A product then needs no horizontal sums: the matvec multiplies each
 * nibble vector by one broadcast activation and applies the block's scale once per 32 columns
 * (y = sum_b d_b (q_b . x_b) + m_b sum(x_b)), and the prefill decodes a group into a column-major
 * tile and multiplies it by broadcast activations of 4 tokens at a time. Against rows dotted one
 * at a time (nibbles widened, dequantised with an fma, then an fma against the activations, one
 * lane sum per row; scales as fp32 beside the nibbles) this is fewer instructions per weight.
 * Measured on SmolLM2's 30 layers of Q4_1 streamed from DRAM, 2 threads
 * ({@code scripts/studies/WeightStreamSpeed.java}): 4.5-4.8 -> 3.2-3.4 ms per decode step; the
 * products of a 256-token prefill chunk about as fast as before (300-340 ms on a busy host). Every output is one chain of
 * fmas in a fixed order, so results do not depend on the thread split, the token batching or
 * the JIT's state (the rows' lane sums made prefill differ in the last bit between processes).
 */
final class Q4RowGroups {
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    /** Rows per group: one per float lane (16 on AVX-512, 8 on AVX2). */
    static final int GROUP = LANES;
    /** The group's fp16 scales (or minimums) as bytes: 2 per row. */
    private static final VectorSpecies<Byte> HALF_BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(GROUP * 16));
    /** Per group and block: GROUP fp16 scales, GROUP fp16 minimums (Q4_1 only), then 16 chunks of one nibble byte per row. */
    private static final int BLOCK = 32, HALVES = GROUP * 2;
    /**
     * Tokens per prefill tile: the engine's whole prefill chunk (256), so each group is decoded once
     * per chunk (decoding it per 64 tokens cost ~20% of the products, per 16 tokens 2x). The group
     * pair's decoded tiles (2 x 96 KiB at 1536 columns) stay in L2; the activations stream past.
     */
    private static final int TOKEN_TILE = 256;

    private final int rows, cols, blocks, groups;
    private final boolean storedMin;   // Q4_1: m stored; Q4_0: m = -8 d
    private final int groupBlockBytes;
    private final byte[] packed;       // [groups][blocks]{d halves, m halves (Q4_1), [16 chunks][GROUP rows] nibbles}

    private Q4RowGroups(int rows, int cols, boolean storedMin, byte[] packed) {
        this.rows = rows;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        this.groups = (rows + GROUP - 1) / GROUP;
        this.storedMin = storedMin;
        this.groupBlockBytes = groupBlockBytes(storedMin);
        this.packed = packed;
    }

    private static int groupBlockBytes(boolean storedMin) {
        return (storedMin ? 2 : 1) * HALVES + 16 * GROUP;
    }

    /**
     * Repacks {@code rows} rows of {@code cols} values stored as ggml Q4_0 ({@code storedMin}
     * false: 18-byte blocks fp16 d, 16 nibble bytes) or Q4_1 (20-byte blocks fp16 d, fp16 m, 16
     * nibble bytes); null when the nibbles would not fit one Java array (the caller keeps the
     * in-place kernel). The lanes of a last, partial group are zero.
     */
    static Q4RowGroups pack(MemorySegment data, int rows, int cols, boolean storedMin) {
        int blocks = cols / BLOCK;
        long groupBlocks = (long) (rows + GROUP - 1) / GROUP * blocks;
        int groupBlockBytes = groupBlockBytes(storedMin);
        if (groupBlocks * groupBlockBytes > Integer.MAX_VALUE - 16) return null;
        int blockBytes = storedMin ? 20 : 18, quantsOffset = storedMin ? 4 : 2, nibblesAt = (storedMin ? 2 : 1) * HALVES;
        byte[] packed = new byte[(int) (groupBlocks * groupBlockBytes)];
        byte[] block = new byte[blockBytes];
        for (int r = 0; r < rows; r++) {
            int lane = r % GROUP;
            for (int b = 0; b < blocks; b++) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, ((long) r * blocks + b) * blockBytes, block, 0, blockBytes);
                int at = ((r / GROUP) * blocks + b) * groupBlockBytes;
                packed[at + 2 * lane] = block[0];
                packed[at + 2 * lane + 1] = block[1];
                if (storedMin) {
                    packed[at + HALVES + 2 * lane] = block[2];
                    packed[at + HALVES + 2 * lane + 1] = block[3];
                }
                for (int k = 0; k < 16; k++) packed[at + nibblesAt + k * GROUP + lane] = block[quantsOffset + k];
            }
        }
        return new Q4RowGroups(rows, cols, storedMin, packed);
    }

    /** y[g*GROUP ..) = rows of groups [groupFrom, groupTo) . x, x is [cols]. */
    void matVec(float[] x, float[] y, int groupFrom, int groupTo) {
        float[] blockSums = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            float s = 0;
            for (int j = 0; j < BLOCK; j++) s += x[b * BLOCK + j];
            blockSums[b] = s;
        }
        for (int g = groupFrom; g < groupTo; g++) {
            FloatVector acc = FloatVector.zero(FLOATS);
            for (int b = 0; b < blocks; b++) {
                int at = (g * blocks + b) * groupBlockBytes, q = at + (storedMin ? 2 * HALVES : HALVES), xb = b * BLOCK;
                // Two chains (columns k and k + 16) so consecutive fmas do not wait on each other.
                FloatVector low = FloatVector.zero(FLOATS), high = low;
                for (int k = 0; k < 16; k++) {
                    IntVector nibbles = (IntVector) ByteVector.fromArray(BYTES, packed, q + k * GROUP).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                    low = ((FloatVector) nibbles.and(0x0F).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOATS, x[xb + k]), low);
                    high = ((FloatVector) nibbles.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOATS, x[xb + k + 16]), high);
                }
                FloatVector d = halves(at);
                acc = low.add(high).fma(d, acc);
                acc = (storedMin ? halves(at + HALVES) : d.mul(-8f)).fma(FloatVector.broadcast(FLOATS, blockSums[b]), acc);
            }
            store(acc, y, g * GROUP, g);
        }
    }

    /** y[t][rows of groups [groupFrom, groupTo)] = those rows . x[t] for t in [0, tokens); x is [tokens][cols], y [tokens][rows]. */
    void matMul(float[] x, int tokens, float[] y, int groupFrom, int groupTo) {
        float[] tileA = new float[cols * GROUP], tileB = new float[cols * GROUP];  // [cols][GROUP] decoded groups
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
            int t1 = Math.min(tokens, t0 + TOKEN_TILE);
            for (int g = groupFrom; g < groupTo; g += 2) {
                boolean pair = g + 1 < groupTo;
                dequantizeGroup(g, tileA);
                if (pair) dequantizeGroup(g + 1, tileB);
                int t = t0;
                for (; t + 4 <= t1; t += 4) {
                    if (pair) productPairByFour(tileA, tileB, x, t, y, g);
                    else productOneByFour(tileA, x, t, y, g);
                }
                for (; t < t1; t++) {
                    productOne(tileA, x, t, y, g);
                    if (pair) productOne(tileB, x, t, y, g + 1);
                }
            }
        }
    }

    /** y[t..t+4)[rows of groups g, g+1]: 8 accumulators, per column 2 tile loads and 4 broadcasts. */
    private void productPairByFour(float[] tileA, float[] tileB, float[] x, int t, float[] y, int g) {
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        for (int c = 0; c < cols; c++) {
            FloatVector wa = FloatVector.fromArray(FLOATS, tileA, c * GROUP), wb = FloatVector.fromArray(FLOATS, tileB, c * GROUP);
            FloatVector v0 = FloatVector.broadcast(FLOATS, x[x0 + c]), v1 = FloatVector.broadcast(FLOATS, x[x1 + c]);
            FloatVector v2 = FloatVector.broadcast(FLOATS, x[x2 + c]), v3 = FloatVector.broadcast(FLOATS, x[x3 + c]);
            a0 = wa.fma(v0, a0); a1 = wa.fma(v1, a1); a2 = wa.fma(v2, a2); a3 = wa.fma(v3, a3);
            b0 = wb.fma(v0, b0); b1 = wb.fma(v1, b1); b2 = wb.fma(v2, b2); b3 = wb.fma(v3, b3);
        }
        store(a0, y, t * rows + g * GROUP, g); store(a1, y, (t + 1) * rows + g * GROUP, g);
        store(a2, y, (t + 2) * rows + g * GROUP, g); store(a3, y, (t + 3) * rows + g * GROUP, g);
        store(b0, y, t * rows + (g + 1) * GROUP, g + 1); store(b1, y, (t + 1) * rows + (g + 1) * GROUP, g + 1);
        store(b2, y, (t + 2) * rows + (g + 1) * GROUP, g + 1); store(b3, y, (t + 3) * rows + (g + 1) * GROUP, g + 1);
    }

    private void productOneByFour(float[] tile, float[] x, int t, float[] y, int g) {
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        for (int c = 0; c < cols; c++) {
            FloatVector w = FloatVector.fromArray(FLOATS, tile, c * GROUP);
            a0 = w.fma(FloatVector.broadcast(FLOATS, x[x0 + c]), a0); a1 = w.fma(FloatVector.broadcast(FLOATS, x[x1 + c]), a1);
            a2 = w.fma(FloatVector.broadcast(FLOATS, x[x2 + c]), a2); a3 = w.fma(FloatVector.broadcast(FLOATS, x[x3 + c]), a3);
        }
        store(a0, y, t * rows + g * GROUP, g); store(a1, y, (t + 1) * rows + g * GROUP, g);
        store(a2, y, (t + 2) * rows + g * GROUP, g); store(a3, y, (t + 3) * rows + g * GROUP, g);
    }

    private void productOne(float[] tile, float[] x, int t, float[] y, int g) {
        FloatVector a = FloatVector.zero(FLOATS);
        int x0 = t * cols;
        for (int c = 0; c < cols; c++) a = FloatVector.fromArray(FLOATS, tile, c * GROUP).fma(FloatVector.broadcast(FLOATS, x[x0 + c]), a);
        store(a, y, t * rows + g * GROUP, g);
    }

    /** y[at .. at+GROUP) = acc, only the lanes of rows that exist when group g is the last, partial one. */
    private void store(FloatVector acc, float[] y, int at, int g) {
        int valid = rows - g * GROUP;
        if (valid >= GROUP) acc.intoArray(y, at);
        else acc.intoArray(y, at, VectorMask.fromLong(FLOATS, (1L << valid) - 1));
    }

    /** tile[c*GROUP + lane] = row g*GROUP + lane at column c, as floats (0 for a partial group's missing rows). */
    private void dequantizeGroup(int g, float[] tile) {
        for (int b = 0; b < blocks; b++) {
            int at = (g * blocks + b) * groupBlockBytes, q = at + (storedMin ? 2 * HALVES : HALVES);
            FloatVector d = halves(at), m = storedMin ? halves(at + HALVES) : d.mul(-8f);
            for (int k = 0; k < 16; k++) {
                IntVector nibbles = (IntVector) ByteVector.fromArray(BYTES, packed, q + k * GROUP).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                ((FloatVector) nibbles.and(0x0F).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(tile, (b * BLOCK + k) * GROUP);
                ((FloatVector) nibbles.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(tile, (b * BLOCK + k + 16) * GROUP);
            }
        }
    }

    /**
     * The GROUP fp16 values at packed[at ..) as floats, exactly: the magnitude bits shifted into
     * fp32's place and scaled by 2^112 (which also makes fp16 subnormals exact), then the sign.
     */
    private FloatVector halves(int at) {
        IntVector h = (IntVector) ByteVector.fromArray(HALF_BYTES, packed, at).reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
        FloatVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        return magnitude.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    private float half(int at) {
        return Float.float16ToFloat((short) ((packed[at] & 0xFF) | packed[at + 1] << 8));
    }

    /** out[outOff .. outOff+cols) = row {@code row} as floats (a gather: for embeddings and tests, not for products). */
    void dequantize(int row, float[] out, int outOff) {
        int g = row / GROUP, lane = row % GROUP;
        for (int b = 0; b < blocks; b++) {
            int at = (g * blocks + b) * groupBlockBytes, q = at + (storedMin ? 2 * HALVES : HALVES);
            float d = half(at + 2 * lane), m = storedMin ? half(at + HALVES + 2 * lane) : -8f * d;
            for (int k = 0; k < 16; k++) {
                int nibbles = packed[q + k * GROUP + lane] & 0xFF;
                out[outOff + b * BLOCK + k] = Math.fma(nibbles & 0x0F, d, m);
                out[outOff + b * BLOCK + k + 16] = Math.fma(nibbles >>> 4, d, m);
            }
        }
    }
}
