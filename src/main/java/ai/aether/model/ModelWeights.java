package ai.aether.model;

import ai.aether.gguf.GgmlType;
import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufTensorInfo;
import ai.aether.kernels.quant.WeightFormat;
import ai.aether.kernels.quant.WeightMatrix;

import java.io.IOException;
import java.util.Optional;

/**
 * The tensors of a Llama-family model. Matrices stay in the GGUF mapping in their stored format;
 * only the small vectors (norm gains, biases) are copied to float arrays.
 *
 * @param tokenEmbedding [vocab][dim]
 * @param outputNorm     [dim]
 * @param output         [vocab][dim]; the token embedding itself when the model ties them
 */
public record ModelWeights(WeightMatrix tokenEmbedding, float[] outputNorm, WeightMatrix output, Layer[] layers) {

    /**
     * Bytes the weights hold on the Java heap: the repacked quantised matrices (a tied output matrix
     * counted once) and the fp32 norms and biases. The rest is read from the mapped file in place.
     */
    public long heapBytes() {
        long bytes = tokenEmbedding.heapBytes() + (output == tokenEmbedding ? 0 : output.heapBytes()) + 4L * outputNorm.length;
        for (Layer l : layers) {
            for (WeightMatrix m : new WeightMatrix[] {l.query(), l.key(), l.value(), l.attnOutput(), l.gate(), l.up(), l.down()}) bytes += m.heapBytes();
            for (float[] v : new float[][] {l.attnNorm(), l.ffnNorm(), l.queryBias(), l.keyBias(), l.valueBias()}) bytes += v == null ? 0 : 4L * v.length;
        }
        return bytes;
    }

    /**
     * One transformer block.
     *
     * @param attnNorm [dim]
     * @param query    [heads*headDim][dim]
     * @param key      [kvHeads*headDim][dim]
     * @param value    [kvHeads*headDim][dim]
     * @param queryBias [heads*headDim] or null; keyBias, valueBias [kvHeads*headDim] or null
     * @param attnOutput [dim][heads*headDim]
     * @param ffnNorm  [dim]
     * @param gate     [ffn][dim], up [ffn][dim], down [dim][ffn]
     */
    public record Layer(float[] attnNorm, WeightMatrix query, WeightMatrix key, WeightMatrix value,
                        float[] queryBias, float[] keyBias, float[] valueBias, WeightMatrix attnOutput,
                        float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {}

    /** Binds every tensor the configuration needs, checking names, shapes and formats. */
    public static ModelWeights fromGguf(GgufFile file, ModelConfig config) throws IOException {
        int dim = config.dim(), qDim = config.heads() * config.headDim(), kvDim = config.kvHeads() * config.headDim();
        WeightMatrix embedding = matrix(file, TensorName.TOKEN_EMBEDDING.global(), config.vocabSize(), dim);
        Optional<GgufTensorInfo> outputInfo = file.findTensor(TensorName.OUTPUT.global());
        WeightMatrix output = outputInfo.isPresent() ? matrix(file, TensorName.OUTPUT.global(), config.vocabSize(), dim) : embedding;
        Layer[] layers = new Layer[config.layers()];
        boolean bias = config.architecture().qkvBias();
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(
                    vector(file, TensorName.ATTN_NORM.of(l), dim),
                    matrix(file, TensorName.ATTN_Q.of(l), qDim, dim),
                    matrix(file, TensorName.ATTN_K.of(l), kvDim, dim),
                    matrix(file, TensorName.ATTN_V.of(l), kvDim, dim),
                    bias ? vector(file, TensorName.ATTN_Q_BIAS.of(l), qDim) : null,
                    bias ? vector(file, TensorName.ATTN_K_BIAS.of(l), kvDim) : null,
                    bias ? vector(file, TensorName.ATTN_V_BIAS.of(l), kvDim) : null,
                    matrix(file, TensorName.ATTN_OUTPUT.of(l), dim, qDim),
                    vector(file, TensorName.FFN_NORM.of(l), dim),
                    matrix(file, TensorName.FFN_GATE.of(l), config.feedForwardDim(), dim),
                    matrix(file, TensorName.FFN_UP.of(l), config.feedForwardDim(), dim),
                    matrix(file, TensorName.FFN_DOWN.of(l), dim, config.feedForwardDim()));
        }
        return new ModelWeights(embedding, vector(file, TensorName.OUTPUT_NORM.global(), dim), output, layers);
    }

    /** The weight format of a GGUF tensor type, or a clear refusal naming the tensor. */
    static WeightFormat formatOf(String tensor, GgmlType type) {
        return switch (type) {
            case F32 -> WeightFormat.F32;
            case F16 -> WeightFormat.F16;
            case BF16 -> WeightFormat.BF16;
            case Q8_0 -> WeightFormat.Q8_0;
            case Q4_0 -> WeightFormat.Q4_0;
            case Q4_1 -> WeightFormat.Q4_1;
            case Q4_K -> WeightFormat.Q4_K;
            case Q5_K -> WeightFormat.Q5_K;
            case Q6_K -> WeightFormat.Q6_K;
            default -> throw new IllegalArgumentException("tensor " + tensor + " has type " + type
                    + ", which Aether cannot compute with (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)");
        };
    }

    private static GgufTensorInfo require(GgufFile file, String name) {
        return file.findTensor(name).orElseThrow(() -> new IllegalArgumentException(
                file.path() + ": tensor " + name + " is missing"));
    }

    private static WeightMatrix matrix(GgufFile file, String name, int rows, int cols) {
        GgufTensorInfo info = require(file, name);
        long[] shape = info.shape();
        if (shape.length != 2 || shape[0] != cols || shape[1] != rows) {
            throw new IllegalArgumentException(file.path() + ": tensor " + name + " has shape " + java.util.Arrays.toString(shape)
                    + ", expected [" + cols + ", " + rows + "] (ggml order)");
        }
        return new WeightMatrix(name, formatOf(name, info.type()), file.tensorData(info), rows, cols);
    }

    private static float[] vector(GgufFile file, String name, int length) {
        GgufTensorInfo info = require(file, name);
        if (info.elementCount() != length) {
            throw new IllegalArgumentException(file.path() + ": tensor " + name + " has " + info.elementCount()
                    + " elements, expected " + length);
        }
        float[] values = new float[length];
        new WeightMatrix(name, formatOf(name, info.type()), file.tensorData(info), 1, length).dequantizeRow(0, values, 0);
        return values;
    }
}
