package ai.aether.model;

import org.junit.jupiter.params.ParameterizedTest;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Causal GQA attention of both dense caches against float64 softmax attention written here. */
class KvCacheAttentionTest {

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> caches() {
        return java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("contiguous F32", 1e-5),
                org.junit.jupiter.params.provider.Arguments.of("contiguous F16", 5e-3),
                org.junit.jupiter.params.provider.Arguments.of("blocked FP32", 1e-5),
                org.junit.jupiter.params.provider.Arguments.of("blocked FP16", 5e-3),
                org.junit.jupiter.params.provider.Arguments.of("blocked INT8", 3e-2),
                org.junit.jupiter.params.provider.Arguments.of("aether FP32 short", 1e-5),
                org.junit.jupiter.params.provider.Arguments.of("aether FP32 every block kept", 1e-5),
                org.junit.jupiter.params.provider.Arguments.of("aether INT8 every block kept", 3e-2));
    }

    static KvCache make(String kind, int layers, int kvHeads, int headDim, int capacity) {
        return switch (kind) {
            case "contiguous F32" -> new ContiguousKvCache(layers, kvHeads, headDim, capacity, ContiguousKvCache.Precision.F32);
            case "contiguous F16" -> new ContiguousKvCache(layers, kvHeads, headDim, capacity, ContiguousKvCache.Precision.F16);
            case "blocked FP32" -> new BlockedKvCache(layers, kvHeads, headDim, capacity, ai.aether.kernels.attention.KvDtype.FP32, 8);
            case "blocked FP16" -> new BlockedKvCache(layers, kvHeads, headDim, capacity, ai.aether.kernels.attention.KvDtype.FP16, 8);
            case "blocked INT8" -> new BlockedKvCache(layers, kvHeads, headDim, capacity, ai.aether.kernels.attention.KvDtype.INT8, 8);
            // below minSeqLength AETHER attends densely; with target sparsity 0 selection keeps every block
            case "aether FP32 short" -> new AetherKvCache(config(layers, kvHeads, headDim), capacity, ai.aether.attention.AetherConfig.builder()
                    .blockSize(8).kvDtype(ai.aether.kernels.attention.KvDtype.FP32).build());
            case "aether FP32 every block kept" -> new AetherKvCache(config(layers, kvHeads, headDim), capacity, ai.aether.attention.AetherConfig.builder()
                    .blockSize(8).minSeqLength(0).targetSparsity(0).kvDtype(ai.aether.kernels.attention.KvDtype.FP32).build());
            case "aether INT8 every block kept" -> new AetherKvCache(config(layers, kvHeads, headDim), capacity, ai.aether.attention.AetherConfig.builder()
                    .blockSize(8).minSeqLength(0).targetSparsity(0).kvDtype(ai.aether.kernels.attention.KvDtype.INT8).build());
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** A model shape for the AETHER cache (it needs the query head count up front: 6, as below). */
    static ModelConfig config(int layers, int kvHeads, int headDim) {
        return new ModelConfig(Architecture.LLAMA, "test", 64, 6 * headDim, layers, 32, 6, kvHeads, headDim, 1e-5f, 10000, 32);
    }

    /** fp16 storage rounds keys and values to 11 significant bits, int8 to half of max|x|/127 per vector, hence the looser tolerances. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("caches")
    void attendMatchesFloat64Attention(String kind, double tolerance) {
        int layers = 2, kvHeads = 2, heads = 6, headDim = 16, capacity = 40;
        int first = 23, added = 5; // 23 earlier tokens, then a chunk of 5
        Random random = new Random(3);
        int total = first + added;
        float[] keys = new float[total * kvHeads * headDim], values = new float[total * kvHeads * headDim];
        for (int i = 0; i < keys.length; i++) { keys[i] = (float) random.nextGaussian(); values[i] = (float) random.nextGaussian(); }
        float[] queries = new float[added * heads * headDim];
        for (int i = 0; i < queries.length; i++) queries[i] = (float) random.nextGaussian();

        KvCache cache = make(kind, layers, kvHeads, headDim, capacity);
        int stride = kvHeads * headDim;
        cache.write(1, 0, first, java.util.Arrays.copyOf(keys, first * stride), java.util.Arrays.copyOf(values, first * stride));
        cache.write(1, first, added, java.util.Arrays.copyOfRange(keys, first * stride, total * stride),
                java.util.Arrays.copyOfRange(values, first * stride, total * stride));
        float[] out = new float[queries.length];
        cache.attend(1, first, added, queries, heads, out);
        // decode path too: the last token alone must give the chunk's last row
        float[] lastQuery = java.util.Arrays.copyOfRange(queries, (added - 1) * heads * headDim, added * heads * headDim);
        float[] lastOut = new float[heads * headDim];
        cache.attend(1, total - 1, 1, lastQuery, heads, lastOut);
        for (int i = 0; i < lastOut.length; i++) assertEquals(out[(added - 1) * heads * headDim + i], lastOut[i], 1e-5, kind + " decode vs prefill " + i);

        for (int t = 0; t < added; t++) {
            for (int h = 0; h < heads; h++) {
                int kv = h / (heads / kvHeads);
                int seen = first + t + 1;
                double[] weights = new double[seen];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int p = 0; p < seen; p++) {
                    double s = 0;
                    for (int d = 0; d < headDim; d++) s += (double) queries[(t * heads + h) * headDim + d] * keys[(p * kvHeads + kv) * headDim + d];
                    weights[p] = s / Math.sqrt(headDim);
                    max = Math.max(max, weights[p]);
                }
                for (int p = 0; p < seen; p++) { weights[p] = Math.exp(weights[p] - max); sum += weights[p]; }
                for (int d = 0; d < headDim; d++) {
                    double want = 0;
                    for (int p = 0; p < seen; p++) want += weights[p] / sum * values[(p * kvHeads + kv) * headDim + d];
                    assertEquals(want, out[(t * heads + h) * headDim + d], tolerance, kind + " token " + t + " head " + h + " dim " + d);
                }
            }
        }
    }
}
