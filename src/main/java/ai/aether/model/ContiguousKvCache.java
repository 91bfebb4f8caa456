package ai.aether.model;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.ops.VectorMath;

/**
 * The dense baseline cache: every position of every layer in one contiguous array per layer,
 * in fp32 or fp16, with exact causal softmax attention over all cached positions. Used by tests
 * and as the reference the AETHER cache is compared with.
 */
public final class ContiguousKvCache implements KvCache {

    /** Storage precision of cached keys and values. */
    public enum Precision { F32, F16 }

    private final int layers, kvHeads, headDim, capacity;
    private final Precision precision;
    private final float[][] keys32, values32;   // [layers][kvHeads][capacity][headDim] when F32
    private final short[][] keys16, values16;   // [layers][kvHeads][capacity][headDim] when F16

    public ContiguousKvCache(int layers, int kvHeads, int headDim, int capacity, Precision precision) {
        if (layers < 1 || kvHeads < 1 || headDim < 1 || capacity < 1) {
            throw new IllegalArgumentException("KV cache dimensions must be positive, got layers=" + layers + " kvHeads=" + kvHeads
                    + " headDim=" + headDim + " capacity=" + capacity);
        }
        long perLayer = (long) kvHeads * capacity * headDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions x " + kvHeads + " heads x " + headDim
                    + " exceeds one array per layer; use a smaller capacity");
        }
        this.layers = layers; this.kvHeads = kvHeads; this.headDim = headDim; this.capacity = capacity;
        this.precision = precision;
        if (precision == Precision.F32) {
            keys32 = new float[layers][(int) perLayer];
            values32 = new float[layers][(int) perLayer];
            keys16 = values16 = null;
        } else {
            keys16 = new short[layers][(int) perLayer];
            values16 = new short[layers][(int) perLayer];
            keys32 = values32 = null;
        }
    }

    @Override
    public long kvBytes() {
        return 2L * layers * kvHeads * capacity * headDim * (precision == Precision.F32 ? 4 : 2);  // allocated up front
    }

    /** A cache shaped for {@code config}, holding {@code capacity} positions. */
    public static ContiguousKvCache forModel(ModelConfig config, int capacity, Precision precision) {
        return new ContiguousKvCache(config.layers(), config.kvHeads(), config.headDim(), capacity, precision);
    }

    @Override public int layers() { return layers; }
    @Override public int kvHeads() { return kvHeads; }
    @Override public int headDim() { return headDim; }
    @Override public int capacity() { return capacity; }
    public Precision precision() { return precision; }

    private void checkRange(int layer, int position, int tokens) {
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer " + layer + " outside [0, " + layers + ")");
        if (position < 0 || tokens < 1 || (long) position + tokens > capacity) {
            throw new IllegalArgumentException("positions [" + position + ", " + ((long) position + tokens)
                    + ") do not fit the KV cache capacity " + capacity);
        }
    }

    @Override
    public void write(int layer, int position, int tokens, float[] keys, float[] values) {
        checkRange(layer, position, tokens);
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < kvHeads; h++) {
                int src = (t * kvHeads + h) * headDim;
                int dst = (h * capacity + position + t) * headDim;
                if (precision == Precision.F32) {
                    System.arraycopy(keys, src, keys32[layer], dst, headDim);
                    System.arraycopy(values, src, values32[layer], dst, headDim);
                } else {
                    for (int d = 0; d < headDim; d++) {
                        keys16[layer][dst + d] = Float.floatToFloat16(keys[src + d]);
                        values16[layer][dst + d] = Float.floatToFloat16(values[src + d]);
                    }
                }
            }
        }
    }

    @Override
    public void attend(int layer, int position, int tokens, float[] queries, int heads, float[] out) {
        checkRange(layer, position, tokens);
        if (heads < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("query heads " + heads + " must be a positive multiple of KV heads " + kvHeads);
        }
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        Parallel.forRange(tokens * heads, (from, to) -> {
            float[] scores = new float[position + tokens]; // [positions seen by the last query]
            float[] row = new float[headDim];              // one fp16 key or value widened
            for (int task = from; task < to; task++) {
                int t = task / heads, h = task % heads, kvHead = h / group;
                int seen = position + t + 1;
                int q = (t * heads + h) * headDim;
                int base = kvHead * capacity * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < seen; p++) {
                    float s = scale * keyDot(layer, base + p * headDim, queries, q, row);
                    scores[p] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int p = 0; p < seen; p++) {
                    float e = (float) Math.exp(scores[p] - max);
                    scores[p] = e;
                    sum += e;
                }
                java.util.Arrays.fill(out, q, q + headDim, 0f);
                float inverse = 1f / sum;
                for (int p = 0; p < seen; p++) {
                    addValue(layer, base + p * headDim, scores[p] * inverse, out, q, row);
                }
            }
        });
    }

    private float keyDot(int layer, int offset, float[] query, int queryOffset, float[] row) {
        if (precision == Precision.F32) return VectorMath.dot(keys32[layer], offset, query, queryOffset, headDim);
        for (int d = 0; d < headDim; d++) row[d] = Float.float16ToFloat(keys16[layer][offset + d]);
        return VectorMath.dot(row, 0, query, queryOffset, headDim);
    }

    private void addValue(int layer, int offset, float weight, float[] out, int outOffset, float[] row) {
        if (precision == Precision.F32) {
            VectorMath.axpy(weight, values32[layer], offset, out, outOffset, headDim);
            return;
        }
        for (int d = 0; d < headDim; d++) row[d] = Float.float16ToFloat(values16[layer][offset + d]);
        VectorMath.axpy(weight, row, 0, out, outOffset, headDim);
    }
}
