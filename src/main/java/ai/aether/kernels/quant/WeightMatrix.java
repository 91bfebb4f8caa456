package ai.aether.kernels.quant;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.ops.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/**
 * A weight matrix [rows][cols] stored in one {@link WeightFormat}, read in place (typically a
 * slice of a memory-mapped GGUF file). Q4_0, Q4_1 and Q8_0 are repacked at load one row per vector
 * lane ({@link RowGroups}: no lane sums, fixed summation order). Other formats are computed on their
 * blocks row by row:
 * <ul>
 *   <li>{@link #matVec} (decode, one token): each row is decoded in registers and dotted;</li>
 *   <li>{@link #matMul} (prefill, many tokens): rows are decoded once per tile of
 *       {@value #TOKEN_TILE} tokens into an L1-resident buffer and dotted with every token of
 *       the tile in 4-row x 4-token register blocks.</li>
 * </ul>
 * Work is split over groups of {@link RowGroups#GROUP} output rows through {@link Parallel}. {@link #matVecAll} runs several
 * matrices that read the same input (Q/K/V, gate/up) in one parallel region.
 *
 * <pre>{@code
 * WeightMatrix w = new WeightMatrix("blk.0.attn_q.weight", WeightFormat.Q4_1, segment, 576, 576);
 * float[] y = new float[576];
 * w.matVec(x, y);   // y[r] = sum_c w[r][c] * x[c]
 * }</pre>
 */
public final class WeightMatrix {
    /** Tokens per prefill tile: 32 tokens x 1536 floats = 192 KiB of activations stay in L2. */
    static final int TOKEN_TILE = 32;
    /** Multiply-adds below which a product runs on the calling thread: ~10 us of work, about one thread wake-up. */
    static final long INLINE_WORK = 1L << 15;
    /** Rows decoded together for the prefill register block. */
    private static final int ROW_BLOCK = 4;

    private final String name;
    private final WeightFormat format;
    private final MemorySegment data;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final RowKernel kernel;
    private final RowGroups rowGroups;  // Q4_0/Q4_1/Q8_0 repacked one row per lane, else null

    /** Bytes this matrix keeps on the Java heap (the repacked copy; 0 when it is read from the mapped file in place). */
    public long heapBytes() {
        return rowGroups == null ? 0 : rowGroups.packed.length;
    }

    public WeightMatrix(String name, WeightFormat format, MemorySegment data, int rows, int cols) {
        this.name = Objects.requireNonNull(name, "name");
        this.format = Objects.requireNonNull(format, "format");
        this.data = Objects.requireNonNull(data, "data");
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": matrix shape must be positive, got [" + rows + "][" + cols + "]");
        }
        if (cols % format.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": " + format + " rows must be a multiple of " + format.blockSize()
                    + " values, got " + cols);
        }
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = format.rowBytes(cols);
        long needed = rowBytes * rows;
        if (data.byteSize() < needed) {
            throw new IllegalArgumentException(name + ": " + format + " [" + rows + "][" + cols + "] needs " + needed
                    + " bytes, the data has " + data.byteSize());
        }
        this.kernel = format.kernel();
        this.rowGroups = RowGroups.pack(format, data, rows, cols);
    }

    public String name() { return name; }
    public WeightFormat format() { return format; }
    public int rows() { return rows; }
    public int cols() { return cols; }

    /** out[outOff .. outOff+cols) = row {@code row} as floats. */
    public void dequantizeRow(int row, float[] out, int outOff) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(outOff, cols, out.length);
        decodeRow(row, out, outOff);
    }

    /** The dot product of row {@code row} with x[xOff .. xOff+cols). */
    public float dotRow(int row, float[] x, int xOff) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOff, cols, x.length);
        if (rowGroups != null) {
            float[] decoded = new float[cols];
            rowGroups.dequantize(row, decoded, 0);
            return VectorMath.dot(decoded, 0, x, xOff, cols);
        }
        return kernel.dot(data, row * rowBytes, cols, x, xOff, new float[kernel.scratchSize()]);
    }

    private void decodeRow(int row, float[] out, int outOff) {
        if (rowGroups != null) rowGroups.dequantize(row, out, outOff);
        else kernel.dequantize(data, row * rowBytes, cols, out, outOff);
    }

    /** Work units of this matrix: groups of {@link RowGroups#GROUP} rows, the last one possibly partial. */
    private int units() {
        return (rows + RowGroups.GROUP - 1) / RowGroups.GROUP;
    }

    /** y[0..rows) = W x, x is [cols]. */
    public void matVec(float[] x, float[] y) {
        matVecAll(x, new WeightMatrix[] {this}, new float[][] {y});
    }

    /** y[t][0..rows) = W x[t] for t in [0, tokens); x is [tokens][cols], y is [tokens][rows]. */
    public void matMul(float[] x, int tokens, float[] y) {
        matMulAll(x, tokens, new WeightMatrix[] {this}, new float[][] {y});
    }

    /** ys[m] = matrices[m] x for every m, in one parallel region; all matrices share cols. */
    public static void matVecAll(float[] x, WeightMatrix[] matrices, float[][] ys) {
        matMulAll(x, 1, matrices, ys);
    }

    /**
     * ys[m][t] = matrices[m] x[t] for every m and token t, in one parallel region.
     *
     * @param x  [tokens][cols] (all matrices have the same cols)
     * @param ys ys[m] is [tokens][matrices[m].rows]
     */
    public static void matMulAll(float[] x, int tokens, WeightMatrix[] matrices, float[][] ys) {
        int cols = matrices[0].cols;
        int totalRows = 0, totalUnits = 0;
        for (int m = 0; m < matrices.length; m++) {
            WeightMatrix w = matrices[m];
            if (w.cols != cols) {
                throw new IllegalArgumentException(w.name + " has " + w.cols + " columns, " + matrices[0].name + " has " + cols);
            }
            if (ys[m].length < (long) tokens * w.rows) {
                throw new IllegalArgumentException(w.name + ": output holds " + ys[m].length + " floats, needs " + (long) tokens * w.rows);
            }
            totalRows += w.rows;
            totalUnits += w.units();
        }
        if (x.length < (long) tokens * cols) {
            throw new IllegalArgumentException(matrices[0].name + ": input holds " + x.length + " floats, needs " + (long) tokens * cols);
        }
        int allUnits = totalUnits;
        Parallel.RangeBody body = tokens == 1
                ? (from, to) -> matVecRange(x, matrices, ys, from, to)
                : (from, to) -> matMulRange(x, tokens, matrices, ys, from, to);
        if ((long) totalRows * cols * tokens < INLINE_WORK) {
            body.run(0, allUnits); // cheaper than waking another thread (~10-30 us per parallel region)
        } else {
            Parallel.forRange(allUnits, body);
        }
    }

    /** Row groups [from, to) of the concatenation of all matrices' groups, one token. */
    private static void matVecRange(float[] x, WeightMatrix[] matrices, float[][] ys, int from, int to) {
        int first = 0;
        for (int m = 0; m < matrices.length; m++) {
            WeightMatrix w = matrices[m];
            int lo = Math.max(from, first) - first, hi = Math.min(to, first + w.units()) - first;
            first += w.units();
            if (lo >= hi) continue;
            if (w.rowGroups != null) {
                w.rowGroups.matVec(x, ys[m], lo, hi);
            } else {
                float[] scratch = new float[w.kernel.scratchSize()];
                for (int r = lo * RowGroups.GROUP, end = Math.min(w.rows, hi * RowGroups.GROUP); r < end; r++) {
                    ys[m][r] = w.kernel.dot(w.data, r * w.rowBytes, w.cols, x, 0, scratch);
                }
            }
        }
    }

    /** Row groups [from, to) of the concatenation of all matrices' groups, all tokens. */
    private static void matMulRange(float[] x, int tokens, WeightMatrix[] matrices, float[][] ys, int from, int to) {
        int first = 0;
        for (int m = 0; m < matrices.length; m++) {
            WeightMatrix w = matrices[m];
            int lo = Math.max(from, first) - first, hi = Math.min(to, first + w.units()) - first;
            first += w.units();
            if (lo >= hi) continue;
            if (w.rowGroups != null) w.rowGroups.matMul(x, tokens, ys[m], lo, hi);
            else w.matMulRows(x, tokens, ys[m], lo * RowGroups.GROUP, Math.min(w.rows, hi * RowGroups.GROUP));
        }
    }

    /** Rows [from, to) of this matrix, all tokens, tiled over tokens: the path of formats without row groups. */
    private void matMulRows(float[] x, int tokens, float[] y, int from, int to) {
        float[][] block = new float[ROW_BLOCK][cols];  // [4][cols] rows decoded once per token tile
        float[][] tile = new float[TOKEN_TILE][];      // [tileTokens][cols] the tile's activations, one array each
        for (int tileStart = 0; tileStart < tokens; tileStart += TOKEN_TILE) {
            int tileTokens = Math.min(TOKEN_TILE, tokens - tileStart);
            // One array per token keeps every vector load at offset c < cols, which the JIT can bounds-check once per loop.
            for (int t = 0; t < tileTokens; t++) tile[t] = Arrays.copyOfRange(x, (tileStart + t) * cols, (tileStart + t + 1) * cols);
            int r = from;
            for (; r + ROW_BLOCK <= to; r += ROW_BLOCK) {
                for (int i = 0; i < ROW_BLOCK; i++) decodeRow(r + i, block[i], 0);
                int t = 0;
                for (; t + 4 <= tileTokens; t += 4) {
                    dotFourByFour(block, tile[t], tile[t + 1], tile[t + 2], tile[t + 3], cols, y, rows, r, tileStart + t);
                }
                for (; t < tileTokens; t++) {
                    for (int i = 0; i < ROW_BLOCK; i++) y[(tileStart + t) * rows + r + i] = VectorMath.dot(block[i], 0, tile[t], 0, cols);
                }
            }
            for (; r < to; r++) {
                decodeRow(r, block[0], 0);
                for (int t = 0; t < tileTokens; t++) y[(tileStart + t) * rows + r] = VectorMath.dot(block[0], 0, tile[t], 0, cols);
            }
        }
    }

    /**
     * y[token+j][r+i] = rows[i] . xj for i, j in [0, 4): a 4x4 register block (16 accumulators,
     * 8 loads per 16 fmas).
     */
    private static void dotFourByFour(float[][] rows, float[] x0, float[] x1, float[] x2, float[] x3, int cols,
                                      float[] y, int outRows, int r, int token) {
        float[] w0 = rows[0], w1 = rows[1], w2 = rows[2], w3 = rows[3];
        int bound = FLOATS.loopBound(cols);
        FloatVector a00 = FloatVector.zero(FLOATS), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int c = 0; c < bound; c += LANES) {
            FloatVector v0 = FloatVector.fromArray(FLOATS, x0, c), v1 = FloatVector.fromArray(FLOATS, x1, c);
            FloatVector v2 = FloatVector.fromArray(FLOATS, x2, c), v3 = FloatVector.fromArray(FLOATS, x3, c);
            FloatVector r0 = FloatVector.fromArray(FLOATS, w0, c);
            a00 = r0.fma(v0, a00); a01 = r0.fma(v1, a01); a02 = r0.fma(v2, a02); a03 = r0.fma(v3, a03);
            FloatVector r1 = FloatVector.fromArray(FLOATS, w1, c);
            a10 = r1.fma(v0, a10); a11 = r1.fma(v1, a11); a12 = r1.fma(v2, a12); a13 = r1.fma(v3, a13);
            FloatVector r2 = FloatVector.fromArray(FLOATS, w2, c);
            a20 = r2.fma(v0, a20); a21 = r2.fma(v1, a21); a22 = r2.fma(v2, a22); a23 = r2.fma(v3, a23);
            FloatVector r3 = FloatVector.fromArray(FLOATS, w3, c);
            a30 = r3.fma(v0, a30); a31 = r3.fma(v1, a31); a32 = r3.fma(v2, a32); a33 = r3.fma(v3, a33);
        }
        store(a00, w0, x0, bound, cols, y, token * outRows + r); store(a01, w0, x1, bound, cols, y, (token + 1) * outRows + r);
        store(a02, w0, x2, bound, cols, y, (token + 2) * outRows + r); store(a03, w0, x3, bound, cols, y, (token + 3) * outRows + r);
        store(a10, w1, x0, bound, cols, y, token * outRows + r + 1); store(a11, w1, x1, bound, cols, y, (token + 1) * outRows + r + 1);
        store(a12, w1, x2, bound, cols, y, (token + 2) * outRows + r + 1); store(a13, w1, x3, bound, cols, y, (token + 3) * outRows + r + 1);
        store(a20, w2, x0, bound, cols, y, token * outRows + r + 2); store(a21, w2, x1, bound, cols, y, (token + 1) * outRows + r + 2);
        store(a22, w2, x2, bound, cols, y, (token + 2) * outRows + r + 2); store(a23, w2, x3, bound, cols, y, (token + 3) * outRows + r + 2);
        store(a30, w3, x0, bound, cols, y, token * outRows + r + 3); store(a31, w3, x1, bound, cols, y, (token + 1) * outRows + r + 3);
        store(a32, w3, x2, bound, cols, y, (token + 2) * outRows + r + 3); store(a33, w3, x3, bound, cols, y, (token + 3) * outRows + r + 3);
    }

    /**
     * y[at] = the lanes of acc plus the scalar tail of row . x beyond the vector bound. The one lane sum
     * not through {@link ai.aether.kernels.ops.Lanes#sum}: sixteen of them per register block made the fixed-order sum cost
     * ~20% of prefill speed, so a prefill's rounding can differ in the last bit with the JIT's state
     * (decode, selection and calibration do not).
     */
    private static void store(FloatVector acc, float[] row, float[] x, int bound, int cols, float[] y, int at) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = bound; c < cols; c++) sum += row[c] * x[c];
        y[at] = sum;
    }
}
