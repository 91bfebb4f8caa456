package ai.aether.model;

/**
 * The GGUF metadata keys the model reads, listed once. Architecture-specific keys are written
 * with a {@code %s} placeholder for the architecture name, e.g. {@code llama.block_count}.
 */
public enum MetadataKey {
    ARCHITECTURE("general.architecture"),
    NAME("general.name"),
    CONTEXT_LENGTH("%s.context_length"),
    EMBEDDING_LENGTH("%s.embedding_length"),
    BLOCK_COUNT("%s.block_count"),
    FEED_FORWARD_LENGTH("%s.feed_forward_length"),
    HEAD_COUNT("%s.attention.head_count"),
    HEAD_COUNT_KV("%s.attention.head_count_kv"),
    KEY_LENGTH("%s.attention.key_length"),
    RMS_EPSILON("%s.attention.layer_norm_rms_epsilon"),
    ROPE_THETA("%s.rope.freq_base"),
    ROPE_DIMENSIONS("%s.rope.dimension_count"),
    ROPE_SCALING_TYPE("%s.rope.scaling.type");

    private final String pattern;

    MetadataKey(String pattern) {
        this.pattern = pattern;
    }

    /** The full key for {@code architecture}. */
    public String key(Architecture architecture) {
        return pattern.formatted(architecture.ggufName());
    }

    /** The key of an architecture-independent entry such as {@code general.architecture}. */
    public String key() {
        if (pattern.contains("%s")) throw new IllegalStateException(name() + " needs an architecture");
        return pattern;
    }
}
