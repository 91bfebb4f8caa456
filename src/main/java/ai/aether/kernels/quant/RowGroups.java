package ai.aether.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/**
 * A block-quantised matrix (Q4_0, Q4_1, Q8_0) repacked once at load with one <b>row per vector
 * lane</b>: rows go in groups of 16 (8 without AVX-512), and for each group and 32-value block one
 * run of bytes holds the group's fp16 scales (and minimums), then its quants interleaved so that
 * one load of 16 (8) bytes gives one column of every row of the group. That is the file's bytes
 * per row and block, read as one stream; the fp16 scales are widened in registers, exactly.
 *
 * <p>Why lanes are rows. A product then needs no horizontal sums: the matvec multiplies each quant
 * vector by one broadcast activation and applies the block's scale once per 32 columns
 * (y = sum_b d_b (q_b . x_b) [+ m_b sum(x_b)]), and the prefill decodes a group into a
 * column-major tile and multiplies it by broadcast activations of 4 tokens at a time. Against
 * rows dotted one at a time (quants widened and dotted, one lane sum per row, scales as fp32
 * beside them) this is fewer instructions per weight. Measured on SmolLM2's 30 layers of Q4_1
 * streamed from DRAM, 2 threads ({@code scripts/studies/WeightStreamSpeed.java}): 4.5-4.8 ->
 * 3.2-3.4 ms per decode step; the products of a 256-token prefill chunk about as fast as before.
 * Every output is one chain of fmas in a fixed order, so results do not depend on the thread
 * split, the token batching or the JIT's state (the rows' lane sums made prefill differ in the
 * last bit between processes).
 */
abstract sealed class RowGroups permits Q4RowGroups, Q8RowGroups {
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    /** Rows per group: one per float lane (16 on AVX-512, 8 on AVX2). */
    static final int GROUP = LANES;
    /** The group's fp16 scales (or minimums) as bytes: 2 per row. */
    private static final VectorSpecies<Byte> HALF_BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(GROUP * 16));
    /** Values per quantisation block; bytes of one fp16 field for a whole group. */
    static final int BLOCK = 32, HALVES = GROUP * 2;
    /**
     * Tokens per prefill tile: the engine's whole prefill chunk (256), so each group is decoded once
     * per chunk (decoding it per 64 tokens cost ~20% of the products, per 16 tokens 2x). The group
     * pair's decoded tiles (2 x 96 KiB at 1536 columns) stay in L2; the activations stream past.
     */
    private static final int TOKEN_TILE = 256;

    final int rows, cols, blocks, groups, groupBlockBytes;
    final byte[] packed;  // [groups][blocks][groupBlockBytes]

    RowGroups(int rows, int cols, int groupBlockBytes, byte[] packed) {
        this.rows = rows;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        this.groups = (rows + GROUP - 1) / GROUP;
        this.groupBlockBytes = groupBlockBytes;
        this.packed = packed;
    }

    /** The repacked matrix for {@code format}, or null: not a format with row groups, or too large for one Java array. */
    static RowGroups pack(WeightFormat format, MemorySegment data, int rows, int cols) {
        return switch (format) {
            case Q4_0, Q4_1 -> Q4RowGroups.pack(data, rows, cols, format == WeightFormat.Q4_1);
            case Q8_0 -> Q8RowGroups.pack(data, rows, cols);
            default -> null;
        };
    }

    /** Bytes of a repacked matrix, or -1 when they would not fit one Java array. */
    static int packedBytes(int rows, int cols, int groupBlockBytes) {
        long bytes = (long) (rows + GROUP - 1) / GROUP * (cols / BLOCK) * groupBlockBytes;
        return bytes > Integer.MAX_VALUE - 16 ? -1 : (int) bytes;
    }

    /** y[g*GROUP ..) = rows of groups [groupFrom, groupTo) . x, x is [cols]. */
    abstract void matVec(float[] x, float[] y, int groupFrom, int groupTo);

    /**
     * tile[c*GROUP + lane] = row g*GROUP + lane at column c, as floats (0 for a partial group's missing rows).
     * {@code scales} is scratch of 2 * GROUP floats: the block's scales pass through it rather than as a
     * returned vector, because this method is inlined into the large {@link #matMul}, where the JIT runs out
     * of node budget and leaves a vector-returning helper as a call, boxing every vector it returns.
     */
    abstract void dequantizeGroup(int g, float[] tile, float[] scales);

    /** out[outOff .. outOff+cols) = row {@code row} as floats (a gather: for embeddings and tests, not for products). */
    abstract void dequantize(int row, float[] out, int outOff);

    /** y[t][rows of groups [groupFrom, groupTo)] = those rows . x[t] for t in [0, tokens); x is [tokens][cols], y [tokens][rows]. */
    final void matMul(float[] x, int tokens, float[] y, int groupFrom, int groupTo) {
        float[] tileA = new float[cols * GROUP], tileB = new float[cols * GROUP];  // [cols][GROUP] decoded groups
        float[] scales = new float[2 * GROUP];
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
            int t1 = Math.min(tokens, t0 + TOKEN_TILE);
            for (int g = groupFrom; g < groupTo; g += 2) {
                boolean pair = g + 1 < groupTo;
                dequantizeGroup(g, tileA, scales);
                if (pair) dequantizeGroup(g + 1, tileB, scales);
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
    final void store(FloatVector acc, float[] y, int at, int g) {
        int valid = rows - g * GROUP;
        if (valid >= GROUP) acc.intoArray(y, at);
        else acc.intoArray(y, at, VectorMask.fromLong(FLOATS, (1L << valid) - 1));
    }

    /**
     * The GROUP fp16 values at packed[at ..) as floats, exactly: the magnitude bits shifted into
     * fp32's place and scaled by 2^112 (which also makes fp16 subnormals exact), then the sign.
     */
    final FloatVector halves(int at) {
        IntVector h = (IntVector) ByteVector.fromArray(HALF_BYTES, packed, at).reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
        FloatVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        return magnitude.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** dst[dstOff .. dstOff+GROUP) = {@link #halves}(at): for callers that must not receive a vector from a call. */
    final void halvesInto(int at, float[] dst, int dstOff) {
        halves(at).intoArray(dst, dstOff);
    }

    final float half(int at) {
        return Float.float16ToFloat((short) ((packed[at] & 0xFF) | packed[at + 1] << 8));
    }

}
