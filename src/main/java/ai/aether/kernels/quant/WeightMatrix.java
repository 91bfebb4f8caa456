package ai.aether.kernels.quant;

import ai.aether.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/**
 * A weight matrix [rows][cols] stored in one {@link WeightFormat}, read in place (typically a
 * slice of a memory-mapped GGUF file). Products are computed on the packed blocks:
 * <ul>
 *   <li>{@link #matVec} (decode, one token): each row is decoded in registers and dotted;</li>
 *   <li>{@link #matMul} (prefill, many tokens): rows are decoded once per tile of
 *       {@value #TOKEN_TILE} tokens into an L1-resident buffer and dotted with every token of
 *       the tile, four tokens per pass.</li>
 * </ul>
 * Work is split over output rows through {@link Parallel}. {@link #matVecAll} runs several
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

    private final String name;
    private final WeightFormat format;
    private final MemorySegment data;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final RowKernel kernel;

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
    }

    public String name() { return name; }
    public WeightFormat format() { return format; }
    public int rows() { return rows; }
    public int cols() { return cols; }

    /** out[outOff .. outOff+cols) = row {@code row} as floats. */
    public void dequantizeRow(int row, float[] out, int outOff) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(outOff, cols, out.length);
        kernel.dequantize(data, row * rowBytes, cols, out, outOff);
    }

    /** The dot product of row {@code row} with x[xOff .. xOff+cols). */
    public float dotRow(int row, float[] x, int xOff) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOff, cols, x.length);
        return kernel.dot(data, row * rowBytes, cols, x, xOff, new float[kernel.scratchSize()]);
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
        int totalRows = 0;
        for (int m = 0; m < matrices.length; m++) {
            WeightMatrix w = matrices[m];
            if (w.cols != cols) {
                throw new IllegalArgumentException(w.name + " has " + w.cols + " columns, " + matrices[0].name + " has " + cols);
            }
            if (ys[m].length < (long) tokens * w.rows) {
                throw new IllegalArgumentException(w.name + ": output holds " + ys[m].length + " floats, needs " + (long) tokens * w.rows);
            }
            totalRows += w.rows;
        }
        if (x.length < (long) tokens * cols) {
            throw new IllegalArgumentException(matrices[0].name + ": input holds " + x.length + " floats, needs " + (long) tokens * cols);
        }
        int allRows = totalRows;
        if (tokens == 1) {
            Parallel.forRange(allRows, (from, to) -> matVecRange(x, matrices, ys, from, to));
        } else {
            Parallel.forRange(allRows, (from, to) -> matMulRange(x, tokens, matrices, ys, from, to));
        }
    }

    /** Rows [from, to) of the concatenation of all matrices, one token. */
    private static void matVecRange(float[] x, WeightMatrix[] matrices, float[][] ys, int from, int to) {
        int first = 0;
        float[] scratch = null;
        for (int m = 0; m < matrices.length; m++) {
            WeightMatrix w = matrices[m];
            int lo = Math.max(from, first) - first, hi = Math.min(to, first + w.rows) - first;
            first += w.rows;
            if (lo >= hi) continue;
            if (scratch == null || scratch.length < w.kernel.scratchSize()) scratch = new float[w.kernel.scratchSize()];
            float[] y = ys[m];
            for (int r = lo; r < hi; r++) y[r] = w.kernel.dot(w.data, r * w.rowBytes, w.cols, x, 0, scratch);
        }
    }

    /** Rows [from, to) of the concatenation of all matrices, all tokens, tiled over tokens. */
    private static void matMulRange(float[] x, int tokens, WeightMatrix[] matrices, float[][] ys, int from, int to) {
        int cols = matrices[0].cols;
        float[] row = new float[cols]; // [cols] the current row, decoded once per token tile
        for (int tileStart = 0; tileStart < tokens; tileStart += TOKEN_TILE) {
            int tileEnd = Math.min(tokens, tileStart + TOKEN_TILE);
            int first = 0;
            for (int m = 0; m < matrices.length; m++) {
                WeightMatrix w = matrices[m];
                int lo = Math.max(from, first) - first, hi = Math.min(to, first + w.rows) - first;
                first += w.rows;
                for (int r = lo; r < hi; r++) {
                    w.kernel.dequantize(w.data, r * w.rowBytes, cols, row, 0);
                    dotTokens(row, x, cols, tileStart, tileEnd, ys[m], w.rows, r);
                }
            }
        }
    }

    /** y[t][r] = row . x[t] for t in [tileStart, tileEnd), four tokens per pass over the row. */
    private static void dotTokens(float[] row, float[] x, int cols, int tileStart, int tileEnd, float[] y, int rows, int r) {
        int t = tileStart;
        int bound = FLOATS.loopBound(cols);
        for (; t + 4 <= tileEnd; t += 4) {
            int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
            FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
            int c = 0;
            for (; c < bound; c += LANES) {
                FloatVector w = FloatVector.fromArray(FLOATS, row, c);
                a0 = w.fma(FloatVector.fromArray(FLOATS, x, x0 + c), a0);
                a1 = w.fma(FloatVector.fromArray(FLOATS, x, x1 + c), a1);
                a2 = w.fma(FloatVector.fromArray(FLOATS, x, x2 + c), a2);
                a3 = w.fma(FloatVector.fromArray(FLOATS, x, x3 + c), a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                float w = row[c];
                s0 += w * x[x0 + c]; s1 += w * x[x1 + c]; s2 += w * x[x2 + c]; s3 += w * x[x3 + c];
            }
            y[t * rows + r] = s0; y[(t + 1) * rows + r] = s1; y[(t + 2) * rows + r] = s2; y[(t + 3) * rows + r] = s3;
        }
        for (; t < tileEnd; t++) y[t * rows + r] = ai.aether.kernels.ops.VectorMath.dot(row, 0, x, t * cols, cols);
    }
}
