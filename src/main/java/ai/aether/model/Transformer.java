package ai.aether.model;

import ai.aether.kernels.ops.Activations;
import ai.aether.kernels.ops.Normalization;
import ai.aether.kernels.ops.Rope;
import ai.aether.kernels.ops.VectorMath;
import ai.aether.kernels.quant.WeightMatrix;

/**
 * The Llama-family forward pass, written once for every supported architecture: the
 * differences (RoPE pairing, Q/K/V biases, tied output) are data in {@link ModelConfig} and
 * {@link ModelWeights}. One call runs a chunk of consecutive tokens through every layer:
 *
 * <pre>
 * x = embed(tokens)                                   [tokens][dim]
 * per layer:  h = rmsnorm(x)                          [tokens][dim]
 *             q, k, v = h Wq (+bq), h Wk (+bk), h Wv (+bv), RoPE on q and k
 *             cache.write(k, v); a = cache.attend(q)  [tokens][heads*headDim]
 *             x += a Wo
 *             h = rmsnorm(x); x += (silu(h Wgate) * h Wup) Wdown
 * logits = rmsnorm(x[last]) Woutput                   [vocab]
 * </pre>
 */
final class Transformer {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Rope rope;
    private final WeightMatrix[][] queryKeyValue;  // [layers] {Wq, Wk, Wv}: one parallel region each
    private final WeightMatrix[][] gateUp;         // [layers] {Wgate, Wup}
    /** Decode activations, one set per thread: a decode step allocates nothing but its logits. */
    private final ThreadLocal<Buffers> decodeBuffers;

    Transformer(ModelConfig config, ModelWeights weights, Rope rope) {
        this.config = config;
        this.weights = weights;
        this.rope = rope;
        ModelWeights.Layer[] layers = weights.layers();
        this.queryKeyValue = new WeightMatrix[layers.length][];
        this.gateUp = new WeightMatrix[layers.length][];
        for (int l = 0; l < layers.length; l++) {
            queryKeyValue[l] = new WeightMatrix[] {layers[l].query(), layers[l].key(), layers[l].value()};
            gateUp[l] = new WeightMatrix[] {layers[l].gate(), layers[l].up()};
        }
        this.decodeBuffers = ThreadLocal.withInitial(() -> new Buffers(config, 1));
    }

    /**
     * Activations of one chunk: per call for prefill chunks, per thread for single-token decode,
     * so concurrent sequences never share them.
     */
    private static final class Buffers {
        final float[] x;         // [tokens][dim] residual stream
        final float[] normed;    // [tokens][dim]
        final float[] query;     // [tokens][heads*headDim]
        final float[] key;       // [tokens][kvHeads*headDim]
        final float[] value;     // [tokens][kvHeads*headDim]
        final float[] attention; // [tokens][heads*headDim]
        final float[] projected; // [tokens][dim]
        final float[] gate;      // [tokens][ffn]
        final float[] up;        // [tokens][ffn]
        final float[] last;      // [dim] final hidden state of the last token
        final float[][] queryKeyValueOut;  // {query, key, value}
        final float[][] gateUpOut;         // {gate, up}

        Buffers(ModelConfig c, int tokens) {
            int qDim = c.heads() * c.headDim(), kvDim = c.kvHeads() * c.headDim();
            x = new float[tokens * c.dim()];
            normed = new float[tokens * c.dim()];
            query = new float[tokens * qDim];
            key = new float[tokens * kvDim];
            value = new float[tokens * kvDim];
            attention = new float[tokens * qDim];
            projected = new float[tokens * c.dim()];
            gate = new float[tokens * c.feedForwardDim()];
            up = new float[tokens * c.feedForwardDim()];
            last = new float[c.dim()];
            queryKeyValueOut = new float[][] {query, key, value};
            gateUpOut = new float[][] {gate, up};
        }
    }

    /**
     * Runs tokens[offset .. offset+count) at positions [position, position+count).
     *
     * @return logits of the last token [vocab], or null when {@code wantLogits} is false
     */
    float[] forward(int[] tokens, int offset, int count, int position, KvCache cache, boolean wantLogits,
                    ActivationObserver observer) {
        int dim = config.dim();
        Buffers b = count == 1 ? decodeBuffers.get() : new Buffers(config, count);
        for (int t = 0; t < count; t++) {
            int token = tokens[offset + t];
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            weights.tokenEmbedding().dequantizeRow(token, b.x, t * dim);
        }
        for (int layer = 0; layer < config.layers(); layer++) {
            attentionBlock(layer, weights.layers()[layer], b, count, position, cache, observer);
            feedForwardBlock(layer, weights.layers()[layer], b, count, observer);
        }
        if (!wantLogits) return null;
        Normalization.rmsNorm(b.x, (count - 1) * dim, weights.outputNorm(), config.rmsEpsilon(), 1, dim, b.last, 0);
        if (observer != null) observer.onActivation("result_norm", -1, b.last, 1, dim);
        float[] logits = new float[config.vocabSize()];
        weights.output().matVec(b.last, logits);
        return logits;
    }

    private void attentionBlock(int layer, ModelWeights.Layer w, Buffers b, int count, int position, KvCache cache,
                                ActivationObserver observer) {
        int dim = config.dim(), heads = config.heads(), kvHeads = config.kvHeads(), headDim = config.headDim();
        Normalization.rmsNorm(b.x, 0, w.attnNorm(), config.rmsEpsilon(), count, dim, b.normed, 0);
        if (observer != null) observer.onActivation("attn_norm", layer, b.normed, count, dim);
        WeightMatrix.matMulAll(b.normed, count, queryKeyValue[layer], b.queryKeyValueOut);
        if (w.queryBias() != null) {
            addBias(b.query, w.queryBias(), count);
            addBias(b.key, w.keyBias(), count);
            addBias(b.value, w.valueBias(), count);
        }
        for (int t = 0; t < count; t++) {
            rope.apply(b.query, t * heads * headDim, heads, position + t);
            rope.apply(b.key, t * kvHeads * headDim, kvHeads, position + t);
        }
        if (observer != null) {
            observer.onActivation("q", layer, b.query, count, heads * headDim);
            observer.onActivation("k", layer, b.key, count, kvHeads * headDim);
            observer.onActivation("v", layer, b.value, count, kvHeads * headDim);
        }
        cache.write(layer, position, count, b.key, b.value);
        cache.attend(layer, position, count, b.query, heads, b.attention);
        if (observer != null) observer.onActivation("attn_out", layer, b.attention, count, heads * headDim);
        w.attnOutput().matMul(b.attention, count, b.projected);
        VectorMath.add(b.projected, 0, b.x, 0, count * dim);
        if (observer != null) observer.onActivation("ffn_inp", layer, b.x, count, dim);
    }

    private void feedForwardBlock(int layer, ModelWeights.Layer w, Buffers b, int count, ActivationObserver observer) {
        int dim = config.dim(), ffn = config.feedForwardDim();
        Normalization.rmsNorm(b.x, 0, w.ffnNorm(), config.rmsEpsilon(), count, dim, b.normed, 0);
        if (observer != null) observer.onActivation("ffn_norm", layer, b.normed, count, dim);
        WeightMatrix.matMulAll(b.normed, count, gateUp[layer], b.gateUpOut);
        Activations.swiGlu(b.gate, b.up, count * ffn);
        if (observer != null) observer.onActivation("ffn_act", layer, b.gate, count, ffn);
        w.down().matMul(b.gate, count, b.projected);
        VectorMath.add(b.projected, 0, b.x, 0, count * dim);
        if (observer != null) observer.onActivation("l_out", layer, b.x, count, dim);
    }

    private static void addBias(float[] x, float[] bias, int count) {
        for (int t = 0; t < count; t++) VectorMath.add(bias, 0, x, t * bias.length, bias.length);
    }
}
