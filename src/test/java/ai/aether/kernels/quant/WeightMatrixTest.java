package ai.aether.kernels.quant;

import ai.aether.kernels.Parallel;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every format's kernels against the float64 scalar decoding in {@link ReferenceDequantizer}. */
class WeightMatrixTest {

    /** Random rows whose scale fields hold sane fp16 values (random bits could be NaN or Inf). */
    static byte[] randomMatrix(WeightFormat format, int rows, int cols, Random random) {
        byte[] bytes = new byte[(int) (format.rowBytes(cols) * rows)];
        random.nextBytes(bytes);
        int blocks = bytes.length / format.bytesPerBlock();
        for (int blk = 0; blk < blocks; blk++) {
            int p = blk * format.bytesPerBlock();
            switch (format) {
                case F32 -> putFloat(bytes, p, (float) random.nextGaussian());
                case F16 -> putHalf(bytes, p, (float) random.nextGaussian());
                case BF16 -> { int bits = Float.floatToIntBits((float) random.nextGaussian()) >>> 16; bytes[p] = (byte) bits; bytes[p + 1] = (byte) (bits >> 8); }
                case Q8_0, Q4_0 -> putHalf(bytes, p, 0.01f + random.nextFloat() * 0.05f);
                case Q4_1, Q4_K, Q5_K -> { putHalf(bytes, p, 0.01f + random.nextFloat() * 0.05f); putHalf(bytes, p + 2, (random.nextFloat() - 0.5f) * 0.1f); }
                case Q6_K -> putHalf(bytes, p + 208, 0.001f + random.nextFloat() * 0.005f);
            }
        }
        return bytes;
    }

    static void putHalf(byte[] b, int p, float v) {
        short h = Float.floatToFloat16(v);
        b[p] = (byte) h; b[p + 1] = (byte) (h >> 8);
    }

    static void putFloat(byte[] b, int p, float v) {
        int bits = Float.floatToIntBits(v);
        for (int i = 0; i < 4; i++) b[p + i] = (byte) (bits >> (8 * i));
    }

    static float[] randomVector(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    /** |got - want| within 1e-5 of sum |w*x| (fp32 rounding over the row) plus a tiny floor. */
    static void assertDotClose(double[] row, float[] x, int xOff, double got, String what) {
        double want = 0, magnitude = 0;
        for (int c = 0; c < row.length; c++) {
            want += row[c] * x[xOff + c];
            magnitude += Math.abs(row[c] * x[xOff + c]);
        }
        double tolerance = 1e-5 * magnitude + 1e-6;
        assertTrue(Math.abs(got - want) <= tolerance, what + ": got " + got + ", want " + want + " (tolerance " + tolerance + ")");
    }

    static int colsFor(WeightFormat format) {
        return format.blockSize() == 256 ? 512 : format.blockSize() == 32 ? 96 : 83;
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void dequantizeMatchesReference(WeightFormat format) {
        Random random = new Random(1);
        int rows = 3, cols = colsFor(format);
        byte[] bytes = randomMatrix(format, rows, cols, random);
        WeightMatrix w = new WeightMatrix("w", format, MemorySegment.ofArray(bytes), rows, cols);
        float[] out = new float[cols + 5];
        for (int r = 0; r < rows; r++) {
            double[] want = ReferenceDequantizer.row(format, bytes, (int) (r * format.rowBytes(cols)), cols);
            w.dequantizeRow(r, out, 5);
            for (int c = 0; c < cols; c++) {
                assertEquals(want[c], out[5 + c], 1e-6 * Math.max(1, Math.abs(want[c])), format + " row " + r + " col " + c);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void matVecAndMatMulMatchReference(WeightFormat format) {
        Random random = new Random(format.ordinal());
        // rows: 2 full row groups of 16 and a partial one (8 without AVX-512); tokens: 4-token register blocks then 3 leftovers,
        // and for the row-by-row formats two full 32-token tiles, then 4+3 leftovers
        int rows = 37, cols = colsFor(format) * 2, tokens = 71;
        byte[] bytes = randomMatrix(format, rows, cols, random);
        WeightMatrix w = new WeightMatrix("w", format, MemorySegment.ofArray(bytes), rows, cols);
        float[] x = randomVector(tokens * cols, random);
        float[] y = new float[tokens * rows];
        w.matMul(x, tokens, y);
        float[] yOne = new float[rows];
        w.matVec(x, yOne);
        for (int r = 0; r < rows; r++) {
            double[] row = ReferenceDequantizer.row(format, bytes, (int) (r * format.rowBytes(cols)), cols);
            assertDotClose(row, x, 0, yOne[r], format + " matVec row " + r);
            for (int t = 0; t < tokens; t++) assertDotClose(row, x, t * cols, y[t * rows + r], format + " matMul row " + r + " token " + t);
        }
    }

    /** Shapes above {@link WeightMatrix#INLINE_WORK}, so the rows really are split over threads. */
    @Property(tries = 40)
    void groupedMatVecEqualsSeparateProducts(@ForAll @IntRange(min = 100, max = 400) int rowsA,
                                              @ForAll @IntRange(min = 100, max = 400) int rowsB,
                                              @ForAll @IntRange(min = 8, max = 16) int blocks,
                                              @ForAll @IntRange(min = 1, max = 3) int threads) {
        Random random = new Random(rowsA * 1000L + rowsB);
        int cols = 32 * blocks;
        assertTrue((long) (rowsA + rowsB) * cols >= WeightMatrix.INLINE_WORK);
        byte[] bytesA = randomMatrix(WeightFormat.Q4_1, rowsA, cols, random), bytesB = randomMatrix(WeightFormat.Q8_0, rowsB, cols, random);
        WeightMatrix a = new WeightMatrix("a", WeightFormat.Q4_1, MemorySegment.ofArray(bytesA), rowsA, cols);
        WeightMatrix b = new WeightMatrix("b", WeightFormat.Q8_0, MemorySegment.ofArray(bytesB), rowsB, cols);
        float[] x = randomVector(cols, random);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(threads);
            float[] ya = new float[rowsA], yb = new float[rowsB];
            WeightMatrix.matVecAll(x, new WeightMatrix[] {a, b}, new float[][] {ya, yb});
            for (int r = 0; r < rowsA; r++) {
                double[] row = ReferenceDequantizer.row(WeightFormat.Q4_1, bytesA, (int) (r * WeightFormat.Q4_1.rowBytes(cols)), cols);
                assertDotClose(row, x, 0, ya[r], "a row " + r);
                assertDotClose(row, x, 0, a.dotRow(r, x, 0), "a.dotRow " + r);
            }
            for (int r = 0; r < rowsB; r++) {
                double[] row = ReferenceDequantizer.row(WeightFormat.Q8_0, bytesB, (int) (r * WeightFormat.Q8_0.rowBytes(cols)), cols);
                assertDotClose(row, x, 0, yb[r], "b row " + r);
                assertDotClose(row, x, 0, b.dotRow(r, x, 0), "b.dotRow " + r);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /**
     * Row groups (Q4_0, Q4_1, Q8_0) keep the file's fp16 scales and widen them in vector registers with bit
     * arithmetic: every finite fp16 value (negative, subnormal, zero, the largest) must come out
     * exact. Scales drawn from all finite bit patterns, products against float64.
     */
    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"Q4_0", "Q4_1", "Q8_0"})
    void rowGroupScalesOfEveryFiniteHalfValueAreExact(WeightFormat format) {
        Random random = new Random(7);
        int rows = 53, cols = 128, tokens = 6;
        byte[] bytes = randomMatrix(format, rows, cols, random);
        int fields = format == WeightFormat.Q4_1 ? 2 : 1;
        for (int blk = 0; blk < bytes.length / format.bytesPerBlock(); blk++) {
            for (int f = 0; f < fields; f++) {
                short h;
                do {
                    h = (short) random.nextInt(1 << 16);
                } while ((h & 0x7C00) == 0x7C00);  // Inf or NaN
                if (blk % 7 == 0) h = (short) (random.nextInt(1 << 10) | (random.nextBoolean() ? 0x8000 : 0));  // subnormal
                int p = blk * format.bytesPerBlock() + 2 * f;
                bytes[p] = (byte) h; bytes[p + 1] = (byte) (h >> 8);
            }
        }
        WeightMatrix w = new WeightMatrix("w", format, MemorySegment.ofArray(bytes), rows, cols);
        float[] x = randomVector(tokens * cols, random);
        float[] y = new float[tokens * rows], yOne = new float[rows], decoded = new float[cols];
        w.matMul(x, tokens, y);
        w.matVec(x, yOne);
        for (int r = 0; r < rows; r++) {
            double[] row = ReferenceDequantizer.row(format, bytes, (int) (r * format.rowBytes(cols)), cols);
            w.dequantizeRow(r, decoded, 0);
            for (int c = 0; c < cols; c++) assertEquals((float) row[c] + 0f, decoded[c] + 0f, "row " + r + " col " + c);  // + 0f: -0 and 0 alike
            assertDotClose(row, x, 0, yOne[r], format + " matVec row " + r);
            for (int t = 0; t < tokens; t++) assertDotClose(row, x, t * cols, y[t * rows + r], format + " matMul row " + r + " token " + t);
        }
    }

    /**
     * Row-group products (Q4_0, Q4_1, Q8_0) are one fma chain per output in a fixed order (rows in vector lanes, no lane sums),
     * so they are bit-identical whatever the thread split and however the tokens are batched: what
     * makes a prefill reproducible from process to process. (One token takes the matvec's kernel,
     * whose sums run block by block: batches here hold at least 2.)
     */
    @Property(tries = 20)
    void rowGroupProductsDoNotDependOnThreadsOrBatching(@ForAll boolean q8, @ForAll @IntRange(min = 100, max = 300) int rows,
                                                  @ForAll @IntRange(min = 8, max = 16) int blocks,
                                                  @ForAll @IntRange(min = 4, max = 40) int tokens,
                                                  @ForAll @IntRange(min = 1, max = 3) int threads) {
        Random random = new Random(rows * 1000L + blocks * 10L + tokens);
        int cols = 32 * blocks;
        WeightFormat format = q8 ? WeightFormat.Q8_0 : WeightFormat.Q4_1;
        WeightMatrix w = new WeightMatrix("w", format, MemorySegment.ofArray(randomMatrix(format, rows, cols, random)), rows, cols);
        float[] x = randomVector(tokens * cols, random);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] all = new float[tokens * rows];
            w.matMul(x, tokens, all);
            float[] one = new float[rows];
            w.matVec(x, one);
            Parallel.setThreads(threads);
            int split = tokens / 2;
            float[] first = new float[split * rows], rest = new float[(tokens - split) * rows];
            w.matMul(Arrays.copyOf(x, split * cols), split, first);
            w.matMul(Arrays.copyOfRange(x, split * cols, tokens * cols), tokens - split, rest);
            for (int i = 0; i < first.length; i++) {
                assertEquals(Float.floatToRawIntBits(all[i]), Float.floatToRawIntBits(first[i]), "matMul token " + i / rows + " row " + i % rows);
            }
            for (int i = 0; i < rest.length; i++) {
                assertEquals(Float.floatToRawIntBits(all[split * rows + i]), Float.floatToRawIntBits(rest[i]), "matMul token " + (split + i / rows) + " row " + i % rows);
            }
            float[] oneAgain = new float[rows];
            w.matVec(x, oneAgain);
            for (int r = 0; r < rows; r++) assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(oneAgain[r]), "matVec row " + r);
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void rejectsShapesThatDoNotFitTheData() {
        MemorySegment small = MemorySegment.ofArray(new byte[20 * 3]);
        IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class,
                () -> new WeightMatrix("blk.0.attn_q.weight", WeightFormat.Q4_1, small, 4, 32));
        assertTrue(tooFew.getMessage().contains("blk.0.attn_q.weight") && tooFew.getMessage().contains("needs 80 bytes"), tooFew.getMessage());
        IllegalArgumentException partialBlock = assertThrows(IllegalArgumentException.class,
                () -> new WeightMatrix("w", WeightFormat.Q8_0, small, 1, 33));
        assertTrue(partialBlock.getMessage().contains("multiple of 32"), partialBlock.getMessage());
    }
}
