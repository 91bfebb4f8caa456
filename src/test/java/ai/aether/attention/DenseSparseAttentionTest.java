package ai.aether.attention;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dense and sparse attention against a float64 reference written in {@link Reference}. */
class DenseSparseAttentionTest {

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /** keys, values [B][H][S][D] and queries [B][Hq][D] with logits of order 1-5. */
    record Case(int batch, int queryHeads, int kvHeads, int length, int dim, int blockSize, float[] query, float[] keys, float[] values) {
        static Case random(long seed, int batch, int queryHeads, int kvHeads, int length, int dim, int blockSize) {
            Random r = new Random(seed);
            return new Case(batch, queryHeads, kvHeads, length, dim, blockSize,
                    Reference.gaussian(r, batch * queryHeads * dim, 2.0),
                    Reference.gaussian(r, batch * kvHeads * length * dim, 1.0),
                    Reference.gaussian(r, batch * kvHeads * length * dim, 1.0));
        }

        Tensor queryTensor() { return Tensor.of(query, batch, queryHeads, dim); }
        Tensor keyTensor() { return Tensor.of(keys, batch, kvHeads, length, dim); }
        Tensor valueTensor() { return Tensor.of(values, batch, kvHeads, length, dim); }
        int blocks() { return (length + blockSize - 1) / blockSize; }
    }

    private static double maxError(Case c, Tensor out, float[] keys, float[] values, BlockMask mask) {
        int group = c.queryHeads / c.kvHeads;
        double worst = 0;
        for (int b = 0; b < c.batch; b++) {
            for (int h = 0; h < c.queryHeads; h++) {
                int kvHead = h / group;
                boolean[] kept = null;
                if (mask != null) {
                    int list = mask.lists() == c.kvHeads ? kvHead : h;
                    kept = new boolean[c.blocks()];
                    for (int i = 0; i < kept.length; i++) kept[i] = mask.kept(b, list, i);
                }
                double[] expected = Reference.attention(c.query, (b * c.queryHeads + h) * c.dim,
                        Reference.head(keys, b, kvHead, c.kvHeads, c.length, c.dim),
                        Reference.head(values, b, kvHead, c.kvHeads, c.length, c.dim), c.length, c.dim, c.blockSize, kept, c.length - 1);
                worst = Math.max(worst, Reference.relativeError(out.data(), (b * c.queryHeads + h) * c.dim, expected));
            }
        }
        return worst;
    }

    @ParameterizedTest(name = "B={0} Hq={1} Hkv={2} S={3} D={4} threads={5}")
    @CsvSource({"1,4,4,64,16,1", "2,8,2,1000,64,2", "1,9,3,777,64,2", "1,32,8,300,128,1", "3,6,1,130,20,2", "1,3,3,5,8,2"})
    void denseFp32MatchesFloat64Reference(int batch, int queryHeads, int kvHeads, int length, int dim, int threads) {
        Parallel.setThreads(threads);
        Case c = Case.random(length * 31L + dim, batch, queryHeads, kvHeads, length, dim, 64);
        Tensor out = AetherKernels.denseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), KvDtype.FP32);
        double err = maxError(c, out, c.keys, c.values, null);
        assertTrue(err < 1e-5, "relative error " + err);
    }

    /**
     * FP16/BF16/INT8 storage: against a reference on the ROUNDED keys and values the only error left is
     * fp32 arithmetic, so the fp32 tolerance (1e-5) holds. Against the unrounded inputs the storage
     * rounding dominates: relative rounding 2^-11 (FP16) and 2^-8 (BF16) per element moves the
     * logits by ~|q||k| 2^-11 and the output by about as much, so 3e-3 (FP16) and 2.5e-2 (BF16);
     * INT8 rounds each element by up to max|x|/254 of its vector (~1.3% of a Gaussian vector's
     * largest element), hence 5e-2.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"FP16,3e-3", "BF16,2.5e-2", "INT8,5e-2"})
    void halfPrecisionStorage(KvDtype dtype, double roundingTolerance) {
        Case c = Case.random(7, 2, 8, 2, 500, 64, 64);
        Tensor out = AetherKernels.denseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), dtype);
        double vsRounded = maxError(c, out, Reference.rounded(c.keys, dtype, c.dim()), Reference.rounded(c.values, dtype, c.dim()), null);
        double vsExact = maxError(c, out, c.keys, c.values, null);
        assertTrue(vsRounded < 1e-5, "error vs rounded reference " + vsRounded);
        assertTrue(vsExact < roundingTolerance, "error vs exact reference " + vsExact);
    }

    @ParameterizedTest(name = "blockSize={0} threads={1}")
    @CsvSource({"16,1", "64,2", "100,2", "128,1"})
    void sparseEqualsDenseRestrictedToKeptBlocks(int blockSize, int threads) {
        Parallel.setThreads(threads);
        Case c = Case.random(blockSize, 2, 12, 3, 1500, 64, blockSize);
        Random r = new Random(blockSize);
        boolean[] data = new boolean[c.batch * c.kvHeads * c.blocks()];
        for (int i = 0; i < data.length; i++) data[i] = r.nextDouble() < 0.3 || i % c.blocks() == 0;
        BlockMask mask = new BlockMask(data, new int[] {c.batch, c.kvHeads, c.blocks()});
        Tensor out = AetherKernels.sparseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), mask, blockSize, KvDtype.FP32);
        double err = maxError(c, out, c.keys, c.values, mask);
        assertTrue(err < 1e-5, "relative error " + err);
    }

    @Test
    void perQueryHeadMaskIsHonoured() {
        Case c = Case.random(3, 1, 8, 2, 640, 32, 64);
        Random r = new Random(5);
        boolean[] data = new boolean[c.queryHeads * c.blocks()];
        for (int i = 0; i < data.length; i++) data[i] = r.nextBoolean() || i % c.blocks() == 9;
        BlockMask mask = new BlockMask(data, new int[] {1, c.queryHeads, c.blocks()});
        Tensor out = AetherKernels.sparseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), mask, 64, KvDtype.FP32);
        assertTrue(maxError(c, out, c.keys, c.values, mask) < 1e-5);
    }

    @Test
    void everyBlockKeptSparseEqualsDense() {
        Case c = Case.random(11, 1, 8, 4, 1234, 64, 64);
        Tensor dense = AetherKernels.denseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), KvDtype.FP16);
        Tensor sparse = AetherKernels.sparseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(),
                BlockMask.all(1, 4, c.blocks()), 64, KvDtype.FP16);
        assertArrayEquals(dense.data(), sparse.data(), 1e-6f);
    }

    @Test
    void fp16WithQueriesTooLargeForThePrescaledPath() {
        Case c = Case.random(17, 1, 4, 2, 300, 32, 64);
        for (int i = 0; i < c.query.length; i += 7) c.query[i] *= 1e5f;  // |q| * 2^112 would overflow fp32
        Tensor out = AetherKernels.denseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), KvDtype.FP16);
        double err = maxError(c, out, Reference.rounded(c.keys, KvDtype.FP16), Reference.rounded(c.values, KvDtype.FP16), null);
        assertTrue(err < 1e-5, "relative error " + err);
    }

    @Test
    void fewHeadsAreSplitOverBlocksAndMerged() {
        Parallel.setThreads(2);
        Case c = Case.random(13, 1, 3, 1, 4000, 64, 64);
        Tensor out = AetherKernels.denseAttention(c.queryTensor(), c.keyTensor(), c.valueTensor(), KvDtype.FP32);
        assertTrue(maxError(c, out, c.keys, c.values, null) < 1e-5);
    }
}
