package ai.aether.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static ai.aether.kernels.quant.VectorShapes.BYTES;
import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/**
 * A Q4_0 or Q4_1 matrix repacked once at load with one <b>row per vector lane</b>: rows go in
 * groups of 16 (8 without AVX-512), and for each group and 32-value block the group's nibbles are
 * interleaved so that one load of 16 (8) bytes gives, in lane i, row i's values at columns k and k+16 (low and high nibble, as
 * in ggml's block). Scales and minimums are fp32, one per row of a group and block ({@code d} and {@code m};
 * Q4_0's minimum is -8 d).
 *
 * <p>Why lanes are rows. A product then needs no horizontal sums: the matvec multiplies each
 * nibble vector by one broadcast activation and applies the block's scale once per 32 columns
 * (y = sum_b d_b (q_b . x_b) + m_b sum(x_b)), and the prefill decodes a group into a column-major
 * tile and multiplies it by broadcast activations of 4 tokens at a time. Against rows dotted one at a
 * time (nibbles widened, dequantised with an fma, then an fma against the activations, one lane
 * sum per row) this is fewer instructions per weight; measured on SmolLM2's 30 layers of Q4_1
 * streamed from DRAM, 2 threads: 4.6 -> 3.5 ms per decode step, and 255 -> 190 ms per 256-token
 * prefill chunk ({@code scripts/studies/WeightStreamSpeed.java}). Every output is one chain of
 * fmas in a fixed order, so results do not depend on the thread split or on the JIT's state
 * (the rows' lane sums made prefill differ in the last bit between processes).
 */
final class Q4RowGroups {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    /** Rows per group: one per float lane (16 on AVX-512, 8 on AVX2). */
    static final int GROUP = LANES;
    private static final int BLOCK = 32, GROUP_BLOCK_BYTES = GROUP * 16;  // 16 chunks of one byte per row
    /** Tokens per prefill tile: the group's 2 decoded tiles (2 x 96 KiB at 1536 columns) and 64 tokens of activations stay in L2. */
    private static final int TOKEN_TILE = 64;

    private final int rows, cols, blocks, groups;
    private final byte[] nibbles;  // [groups][blocks][16 chunks][GROUP rows]
    private final float[] scales;  // [groups][blocks][GROUP rows] d
    private final float[] mins;    // [groups][blocks][GROUP rows] m (Q4_1) or -8 d (Q4_0)

    private Q4RowGroups(int rows, int cols, byte[] nibbles, float[] scales, float[] mins) {
        this.rows = rows;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        this.groups = (rows + GROUP - 1) / GROUP;
        this.nibbles = nibbles;
        this.scales = scales;
        this.mins = mins;
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
        if (groupBlocks * GROUP_BLOCK_BYTES > Integer.MAX_VALUE - 16) return null;
        int blockBytes = storedMin ? 20 : 18, quantsOffset = storedMin ? 4 : 2;
        byte[] nibbles = new byte[(int) (groupBlocks * GROUP_BLOCK_BYTES)];
        float[] scales = new float[(int) (groupBlocks * GROUP)], mins = new float[(int) (groupBlocks * GROUP)];
        byte[] block = new byte[16];
        for (int r = 0; r < rows; r++) {
            int lane = r % GROUP;
            for (int b = 0; b < blocks; b++) {
                long at = ((long) r * blocks + b) * blockBytes;
                int groupBlock = (r / GROUP) * blocks + b;
                float d = Float.float16ToFloat(data.get(SHORT, at));
                scales[groupBlock * GROUP + lane] = d;
                mins[groupBlock * GROUP + lane] = storedMin ? Float.float16ToFloat(data.get(SHORT, at + 2)) : -8f * d;
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at + quantsOffset, block, 0, 16);
                for (int k = 0; k < 16; k++) nibbles[groupBlock * GROUP_BLOCK_BYTES + k * GROUP + lane] = block[k];
            }
        }
        return new Q4RowGroups(rows, cols, nibbles, scales, mins);
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
                int groupBlock = g * blocks + b, q = groupBlock * GROUP_BLOCK_BYTES, xb = b * BLOCK;
                // Two chains (columns k and k + 16) so consecutive fmas do not wait on each other.
                FloatVector low = FloatVector.zero(FLOATS), high = low;
                for (int k = 0; k < 16; k++) {
                    IntVector packed = (IntVector) ByteVector.fromArray(BYTES, nibbles, q + k * GROUP).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                    low = ((FloatVector) packed.and(0x0F).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOATS, x[xb + k]), low);
                    high = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOATS, x[xb + k + 16]), high);
                }
                acc = low.add(high).fma(FloatVector.fromArray(FLOATS, scales, groupBlock * GROUP), acc);
                acc = FloatVector.fromArray(FLOATS, mins, groupBlock * GROUP).fma(FloatVector.broadcast(FLOATS, blockSums[b]), acc);
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
            int groupBlock = g * blocks + b, q = groupBlock * GROUP_BLOCK_BYTES;
            FloatVector d = FloatVector.fromArray(FLOATS, scales, groupBlock * GROUP), m = FloatVector.fromArray(FLOATS, mins, groupBlock * GROUP);
            for (int k = 0; k < 16; k++) {
                IntVector packed = (IntVector) ByteVector.fromArray(BYTES, nibbles, q + k * GROUP).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                ((FloatVector) packed.and(0x0F).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(tile, (b * BLOCK + k) * GROUP);
                ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(tile, (b * BLOCK + k + 16) * GROUP);
            }
        }
    }

    /** out[outOff .. outOff+cols) = row {@code row} as floats (a gather: for embeddings and tests, not for products). */
    void dequantize(int row, float[] out, int outOff) {
        int g = row / GROUP, lane = row % GROUP;
        for (int b = 0; b < blocks; b++) {
            int groupBlock = g * blocks + b, q = groupBlock * GROUP_BLOCK_BYTES;
            float d = scales[groupBlock * GROUP + lane], m = mins[groupBlock * GROUP + lane];
            for (int k = 0; k < 16; k++) {
                int packed = nibbles[q + k * GROUP + lane] & 0xFF;
                out[outOff + b * BLOCK + k] = Math.fma(packed & 0x0F, d, m);
                out[outOff + b * BLOCK + k + 16] = Math.fma(packed >>> 4, d, m);
            }
        }
    }
}
