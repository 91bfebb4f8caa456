package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input fails early with a message naming the problem and the allowed range. */
class BadInputTest {

    private static void failsWith(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }

    private static Tensor filled(float value, int... shape) {
        Tensor t = Tensor.zeros(shape);
        java.util.Arrays.fill(t.data(), value);
        return t;
    }

    @Test
    void configFieldsAreValidatedWithTheirRanges() {
        failsWith(() -> AetherConfig.builder().blockSize(0).build(), "blockSize", "[1, 4096]", "0");
        failsWith(() -> AetherConfig.builder().blockSize(-64).build(), "blockSize", "-64");
        failsWith(() -> AetherConfig.builder().targetSparsity(1.0).build(), "targetSparsity", "[0, 1)");
        failsWith(() -> AetherConfig.builder().threshold(1.5).build(), "threshold", "(0, 1]", "MASS_SHARE");
        failsWith(() -> AetherConfig.builder().thresholdMode(ThresholdMode.ABSOLUTE).threshold(Double.NaN).build(), "threshold", "finite");
        failsWith(() -> AetherConfig.builder().epsilon(0).build(), "epsilon", "(0, 1)");
        failsWith(() -> AetherConfig.builder().topK(-1).build(), "topK", "[0, 1000000]");
        failsWith(() -> AetherConfig.builder().localWindow(-1).build(), "localWindow");
        failsWith(() -> AetherConfig.builder().sinkBlocks(-2).build(), "sinkBlocks");
        failsWith(() -> AetherConfig.builder().minKeptTokens(-1).build(), "minKeptTokens");
        failsWith(() -> AetherConfig.builder().recencyDecay(0).build(), "recencyDecay", "(0, 1]");
        failsWith(() -> AetherConfig.builder().recencyBonus(-0.1).build(), "recencyBonus");
        failsWith(() -> AetherConfig.builder().minSeqLength(-5).build(), "minSeqLength");
        failsWith(() -> AetherConfig.builder().shrinkFactor(2).build(), "shrinkFactor", "[0, 1]");
        failsWith(() -> AetherConfig.builder().denseLayers(0, -1).build(), "denseLayers", "-1");
        failsWith(() -> AetherConfig.builder().selection(null).build(), "selection", "TOP_K");
        failsWith(() -> AetherConfig.builder().kvDtype(null).build(), "kvDtype", "FP16");
        failsWith(() -> AetherConfig.builder().groupCombine(null).build(), "groupCombine", "SOFTMAX_SUM");
        failsWith(() -> AetherConfig.builder().radarScore(null).build(), "radarScore", "QUANTIZED_BOX");
    }

    @Test
    void mismatchedShapes() {
        Tensor keys = filled(0.5f, 1, 2, 100, 16), values = filled(0.5f, 1, 2, 100, 16);
        failsWith(() -> AetherKernels.denseAttention(filled(1, 1, 4, 8), keys, values, KvDtype.FP32), "headDim", "8", "16");
        failsWith(() -> AetherKernels.denseAttention(filled(1, 1, 4, 16), keys, filled(1, 1, 2, 99, 16), KvDtype.FP32), "one shape");
        failsWith(() -> AetherKernels.denseAttention(filled(1, 2, 4, 16), keys, values, KvDtype.FP32), "batch");
        failsWith(() -> AetherKernels.denseAttention(filled(1, 4, 16), keys, values, KvDtype.FP32), "query", "[batch][queryHeads][headDim]");
        failsWith(() -> new Tensor(new float[10], new int[] {3, 4}), "needs 12 elements", "10");
        failsWith(() -> AetherKernels.sparseAttention(filled(1, 1, 4, 16), keys, values, BlockMask.all(1, 2, 3), 64, KvDtype.FP32),
                "mask shape", "blocks=2");
        AetherKvPool pool = new AetherKvPool(16, 64, KvDtype.FP32, 0);
        SequenceKvCache cache = pool.newSequence(1, 2);
        failsWith(() -> cache.append(0, new float[10], new float[64], 2), "keys must hold", "64");
        cache.append(0, new float[32], new float[32], 1);
        AetherAttention attention = new AetherAttention(AetherConfig.defaults(), 4, 2, 16);
        failsWith(() -> attention.decode(0, cache, new float[10], new float[64], null), "queries must be", "64", "10");
        failsWith(() -> new AetherAttention(AetherConfig.defaults(), 4, 2, 32).decode(0, cache, new float[128], new float[128], null),
                "headDim");
    }

    @Test
    void queryHeadsMustBeAMultipleOfKvHeads() {
        failsWith(() -> new AetherAttention(AetherConfig.defaults(), 6, 4, 16), "queryHeads (6)", "multiple of kvHeads (4)");
        Tensor keys = filled(0.5f, 1, 4, 100, 16);
        failsWith(() -> AetherKernels.denseAttention(filled(1, 1, 6, 16), keys, keys, KvDtype.FP32), "multiple of kvHeads (4)");
        AetherMetadata meta = AetherKernels.precomputeMetadata(keys, 64, false, false);
        failsWith(() -> AetherKernels.runAetherSparse(filled(1, 1, 5, 16), meta, AetherConfig.defaults()), "multiple");
    }

    @Test
    void nanOrInfinityInQueriesOrKeys() {
        Tensor keys = filled(0.5f, 1, 1, 100, 16);
        Tensor badKeys = filled(0.5f, 1, 1, 100, 16);
        badKeys.data()[37] = Float.POSITIVE_INFINITY;
        Tensor badQuery = filled(1, 1, 1, 16);
        badQuery.data()[3] = Float.NaN;
        failsWith(() -> AetherKernels.precomputeMetadata(badKeys, 64, true, true), "keys", "Infinity", "finite");
        failsWith(() -> AetherKernels.denseAttention(badQuery, keys, keys, KvDtype.FP32), "query", "NaN", "finite");
        AetherMetadata meta = AetherKernels.precomputeMetadata(keys, 64, true, true);
        failsWith(() -> AetherKernels.runAetherSparse(badQuery, meta, AetherConfig.defaults()), "NaN");
        AetherKvPool pool = new AetherKvPool(16, 64, KvDtype.FP16, 0);
        SequenceKvCache cache = pool.newSequence(1, 1);
        float[] key = new float[16];
        key[2] = Float.NaN;
        failsWith(() -> cache.append(0, key, new float[16], 1), "keys[2]", "NaN", "finite");
        float[] huge = new float[16];
        huge[5] = 1e6f;
        failsWith(() -> cache.append(0, huge, new float[16], 1), "FP16 range");
        cache.append(0, new float[16], new float[16], 1);
        float[] query = new float[16];
        query[0] = Float.NEGATIVE_INFINITY;
        failsWith(() -> new AetherAttention(AetherConfig.defaults(), 1, 1, 16).decode(0, cache, query, new float[16], null), "queries[0]", "finite");
    }

    @Test
    void emptyCacheAndBadBlockSizes() {
        AetherKvPool pool = new AetherKvPool(16, 64, KvDtype.FP32, 0);
        SequenceKvCache cache = pool.newSequence(1, 1);
        failsWith(() -> new AetherAttention(AetherConfig.defaults(), 1, 1, 16).decode(0, cache, new float[16], new float[16], null), "empty cache");
        failsWith(() -> AetherKernels.precomputeMetadata(filled(1, 1, 1, 0, 16), 64, false, false), "dimensions must be >= 1");
        failsWith(() -> AetherKernels.precomputeMetadata(filled(1, 1, 1, 10, 16), 0, false, false), "blockSize", "0");
        failsWith(() -> new AetherKvPool(16, -1, KvDtype.FP32, 0), "blockSize", "-1");
        failsWith(() -> cache.append(3, new float[16], new float[16], 1), "layer", "[0, 1)", "3");
    }
}
