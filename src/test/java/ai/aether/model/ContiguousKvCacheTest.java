package ai.aether.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Causal GQA attention of the dense cache against float64 softmax attention written here. */
class ContiguousKvCacheTest {

    @ParameterizedTest
    @EnumSource(ContiguousKvCache.Precision.class)
    void attendMatchesFloat64Attention(ContiguousKvCache.Precision precision) {
        int layers = 2, kvHeads = 2, heads = 6, headDim = 16, capacity = 40;
        int first = 23, added = 5; // 23 earlier tokens, then a chunk of 5
        Random random = new Random(3);
        int total = first + added;
        float[] keys = new float[total * kvHeads * headDim], values = new float[total * kvHeads * headDim];
        for (int i = 0; i < keys.length; i++) { keys[i] = (float) random.nextGaussian(); values[i] = (float) random.nextGaussian(); }
        float[] queries = new float[added * heads * headDim];
        for (int i = 0; i < queries.length; i++) queries[i] = (float) random.nextGaussian();

        ContiguousKvCache cache = new ContiguousKvCache(layers, kvHeads, headDim, capacity, precision);
        int stride = kvHeads * headDim;
        cache.write(1, 0, first, java.util.Arrays.copyOf(keys, first * stride), java.util.Arrays.copyOf(values, first * stride));
        cache.write(1, first, added, java.util.Arrays.copyOfRange(keys, first * stride, total * stride),
                java.util.Arrays.copyOfRange(values, first * stride, total * stride));
        float[] out = new float[queries.length];
        cache.attend(1, first, added, queries, heads, out);

        // fp16 storage rounds keys and values to 11 significant bits
        double tolerance = precision == ContiguousKvCache.Precision.F32 ? 1e-5 : 5e-3;
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
                    assertEquals(want, out[(t * heads + h) * headDim + d], tolerance, precision + " token " + t + " head " + h + " dim " + d);
                }
            }
        }
    }
}
