package ai.aether.model;

import ai.aether.gguf.GgufFile;

import java.io.IOException;
import java.util.OptionalDouble;

/**
 * Hyper-parameters of a Llama-family model, validated on construction.
 *
 * @param contextLength  tokens the model was trained for (the default KV capacity)
 * @param dim            embedding width
 * @param kvHeads        key/value heads (GQA: heads is a multiple of it)
 * @param ropeTheta      RoPE base frequency
 */
public record ModelConfig(Architecture architecture, String name, int contextLength, int dim, int layers,
                          int feedForwardDim, int heads, int kvHeads, int headDim, float rmsEpsilon,
                          double ropeTheta, int vocabSize) {

    public ModelConfig {
        require(contextLength >= 1, "context_length", contextLength, ">= 1");
        require(dim >= 1, "embedding_length", dim, ">= 1");
        require(layers >= 1, "block_count", layers, ">= 1");
        require(feedForwardDim >= 1, "feed_forward_length", feedForwardDim, ">= 1");
        require(heads >= 1, "attention.head_count", heads, ">= 1");
        require(kvHeads >= 1 && heads % kvHeads == 0, "attention.head_count_kv", kvHeads, "a divisor of head_count " + heads);
        require(headDim >= 2 && headDim % 2 == 0, "attention.key_length", headDim, "an even number >= 2");
        require(vocabSize >= 1, "vocab size", vocabSize, ">= 1");
        if (!(rmsEpsilon > 0 && rmsEpsilon < 1)) {
            throw new IllegalArgumentException("attention.layer_norm_rms_epsilon must be in (0, 1), got " + rmsEpsilon);
        }
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rope.freq_base must be positive, got " + ropeTheta);
    }

    private static void require(boolean ok, String field, long value, String allowed) {
        if (!ok) throw new IllegalArgumentException(field + " must be " + allowed + ", got " + value);
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Reads the configuration from GGUF metadata; the vocabulary size comes from the embedding. */
    public static ModelConfig fromGguf(GgufFile file) throws IOException {
        Architecture arch = Architecture.fromGgufName(file.getString(MetadataKey.ARCHITECTURE.key()));
        int dim = file.getInt(MetadataKey.EMBEDDING_LENGTH.key(arch));
        int heads = file.getInt(MetadataKey.HEAD_COUNT.key(arch));
        int kvHeads = file.findInt(MetadataKey.HEAD_COUNT_KV.key(arch)).orElse(heads);
        if (heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException(file.path() + ": " + MetadataKey.HEAD_COUNT.key(arch) + " = " + heads
                    + " must divide " + MetadataKey.EMBEDDING_LENGTH.key(arch) + " = " + dim);
        }
        int headDim = file.findInt(MetadataKey.KEY_LENGTH.key(arch)).orElse(dim / heads);
        int ropeDimensions = file.findInt(MetadataKey.ROPE_DIMENSIONS.key(arch)).orElse(headDim);
        if (ropeDimensions != headDim) {
            throw new IllegalArgumentException(file.path() + ": partial RoPE (" + MetadataKey.ROPE_DIMENSIONS.key(arch) + " = "
                    + ropeDimensions + ", head dim " + headDim + ") is not supported");
        }
        String scaling = file.findString(MetadataKey.ROPE_SCALING_TYPE.key(arch)).orElse("none");
        if (!scaling.equals("none")) {
            throw new IllegalArgumentException(file.path() + ": RoPE scaling '" + scaling + "' is not supported");
        }
        OptionalDouble theta = file.findDouble(MetadataKey.ROPE_THETA.key(arch));
        long vocab = file.tensor(TensorName.TOKEN_EMBEDDING.global()).dimension(1);
        return new ModelConfig(arch,
                file.findString(MetadataKey.NAME.key()).orElse(file.path().getFileName().toString()),
                file.getInt(MetadataKey.CONTEXT_LENGTH.key(arch)), dim,
                file.getInt(MetadataKey.BLOCK_COUNT.key(arch)),
                file.getInt(MetadataKey.FEED_FORWARD_LENGTH.key(arch)),
                heads, kvHeads, headDim,
                (float) file.getDouble(MetadataKey.RMS_EPSILON.key(arch)),
                theta.orElse(10000.0), Math.toIntExact(vocab));
    }
}
