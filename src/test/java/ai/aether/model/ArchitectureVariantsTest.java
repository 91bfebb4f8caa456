package ai.aether.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The qwen2 path (NEOX RoPE, Q/K/V biases) checked against the llama path: stories260K
 * rewritten as a qwen2 file, with Q/K rows un-permuted from GGUF's interleaved order back to
 * the half-split order NEOX rotates, and zero biases, computes the same function. Also: other
 * architectures are refused by name.
 */
class ArchitectureVariantsTest {

    @TempDir
    Path temp;

    @Test
    void qwen2LayoutOfStoriesGivesTheLlamaLogits() throws Exception {
        Path llamaPath = SharedModels.require(SharedModels.STORIES_F32);
        Path qwenPath = temp.resolve("stories-as-qwen2.gguf");
        try (Model llama = Model.load(llamaPath)) {
            ModelConfig c = llama.config();
            MiniGgufWriter writer = new MiniGgufWriter().string("general.architecture", "qwen2")
                    .u32("qwen2.context_length", c.contextLength()).u32("qwen2.embedding_length", c.dim())
                    .u32("qwen2.block_count", c.layers()).u32("qwen2.feed_forward_length", c.feedForwardDim())
                    .u32("qwen2.attention.head_count", c.heads()).u32("qwen2.attention.head_count_kv", c.kvHeads())
                    .f32("qwen2.attention.layer_norm_rms_epsilon", c.rmsEpsilon()).f32("qwen2.rope.freq_base", c.ropeTheta());
            ModelWeights w = llama.weights();
            writer.tensor(TensorName.TOKEN_EMBEDDING.global(), dense(w.tokenEmbedding().rows(), w.tokenEmbedding()), c.dim(), c.vocabSize());
            writer.tensor(TensorName.OUTPUT_NORM.global(), w.outputNorm(), c.dim());
            int qDim = c.heads() * c.headDim(), kvDim = c.kvHeads() * c.headDim();
            for (int l = 0; l < c.layers(); l++) {
                ModelWeights.Layer layer = w.layers()[l];
                writer.tensor(TensorName.ATTN_NORM.of(l), layer.attnNorm(), c.dim());
                writer.tensor(TensorName.ATTN_Q.of(l), halfSplitRows(dense(qDim, layer.query()), c.heads(), c.headDim(), c.dim()), c.dim(), qDim);
                writer.tensor(TensorName.ATTN_K.of(l), halfSplitRows(dense(kvDim, layer.key()), c.kvHeads(), c.headDim(), c.dim()), c.dim(), kvDim);
                writer.tensor(TensorName.ATTN_V.of(l), dense(kvDim, layer.value()), c.dim(), kvDim);
                writer.tensor(TensorName.ATTN_Q_BIAS.of(l), new float[qDim], qDim);
                writer.tensor(TensorName.ATTN_K_BIAS.of(l), new float[kvDim], kvDim);
                writer.tensor(TensorName.ATTN_V_BIAS.of(l), new float[kvDim], kvDim);
                writer.tensor(TensorName.ATTN_OUTPUT.of(l), dense(c.dim(), layer.attnOutput()), qDim, c.dim());
                writer.tensor(TensorName.FFN_NORM.of(l), layer.ffnNorm(), c.dim());
                writer.tensor(TensorName.FFN_GATE.of(l), dense(c.feedForwardDim(), layer.gate()), c.dim(), c.feedForwardDim());
                writer.tensor(TensorName.FFN_UP.of(l), dense(c.feedForwardDim(), layer.up()), c.dim(), c.feedForwardDim());
                writer.tensor(TensorName.FFN_DOWN.of(l), dense(c.dim(), layer.down()), c.feedForwardDim(), c.dim());
            }
            Files.write(qwenPath, writer.bytes());
            try (Model qwen = Model.load(qwenPath)) {
                assertEquals(Architecture.QWEN2, qwen.config().architecture());
                int[] prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376};
                float[] want = llama.prefill(prompt, 0, llama.newKvCache(16));
                float[] got = qwen.prefill(prompt, 0, qwen.newKvCache(16));
                for (int v = 0; v < want.length; v++) assertEquals(want[v], got[v], 1e-4, "logit " + v);
            }
        }
    }

    @Test
    void otherArchitecturesAreRefusedByName() throws Exception {
        Path path = temp.resolve("gpt2.gguf");
        Files.write(path, new MiniGgufWriter().string("general.architecture", "gpt2").bytes());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Model.load(path));
        assertTrue(error.getMessage().contains("unsupported model architecture 'gpt2' (supported: llama, qwen2)"), error.getMessage());
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path path = temp.resolve("empty-llama.gguf");
        Files.write(path, new MiniGgufWriter().string("general.architecture", "llama")
                .u32("llama.context_length", 16).u32("llama.embedding_length", 8).u32("llama.block_count", 1)
                .u32("llama.feed_forward_length", 16).u32("llama.attention.head_count", 2)
                .f32("llama.attention.layer_norm_rms_epsilon", 1e-5)
                .tensor("token_embd.weight", new float[8 * 4], 8, 4).bytes());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Model.load(path));
        assertTrue(error.getMessage().contains("tensor blk.0.attn_norm.weight is missing"), error.getMessage());
    }

    /** All rows of a matrix as floats, [rows][cols]. */
    private static float[] dense(int rows, ai.aether.kernels.quant.WeightMatrix m) {
        float[] out = new float[rows * m.cols()];
        for (int r = 0; r < rows; r++) m.dequantizeRow(r, out, r * m.cols());
        return out;
    }

    /** GGUF's llama row order (pairs 2i, 2i+1 per head) back to half-split order (i, i + headDim/2). */
    private static float[] halfSplitRows(float[] rows, int heads, int headDim, int cols) {
        float[] out = new float[rows.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim / 2; i++) {
                for (int s = 0; s < 2; s++) {
                    System.arraycopy(rows, (h * headDim + 2 * i + s) * cols, out, (h * headDim + s * headDim / 2 + i) * cols, cols);
                }
            }
        }
        return out;
    }
}
