package ai.aether.model;

/**
 * Per-layer key/value storage plus the attention over it. The model writes the post-RoPE keys
 * and values of the new tokens of a layer with {@link #write}, then calls {@link #attend} for the
 * same tokens; so a plain cache ({@link ContiguousKvCache}) and the AETHER block cache are
 * interchangeable. Positions are absolute token indices; the model owns the sequence length
 * and tells the cache where new tokens go.
 *
 * <pre>{@code
 * cache.write(layer, position, tokens, keys, values);       // keys, values: [tokens][kvHeads][headDim]
 * cache.attend(layer, position, tokens, queries, heads, out); // queries, out: [tokens][heads][headDim]
 * }</pre>
 */
public interface KvCache {

    int layers();

    int kvHeads();

    int headDim();

    /** Largest number of positions the cache can hold. */
    int capacity();

    /**
     * Bytes of keys and values this cache holds in memory now (allocated storage, padding included),
     * for memory reports. Summaries kept beside them (AETHER's per-block metadata) are not included.
     */
    long kvBytes();

    /** Bytes of per-block summaries kept beside the keys and values (AETHER's metadata); 0 for a plain cache. */
    default long summaryBytes() {
        return 0;
    }

    /**
     * Stores keys and values for positions [position, position + tokens) of {@code layer},
     * replacing whatever was there (so a sequence can be rewound by writing over it).
     *
     * @param keys   [tokens][kvHeads][headDim], post-RoPE
     * @param values [tokens][kvHeads][headDim]
     */
    void write(int layer, int position, int tokens, float[] keys, float[] values);

    /**
     * Causal attention for the tokens at positions [position, position + tokens): query i sees
     * cached positions 0 .. position + i, with softmax scale 1/sqrt(headDim). Query head h reads
     * KV head h / (heads / kvHeads).
     *
     * @param queries [tokens][heads][headDim], post-RoPE
     * @param out     [tokens][heads][headDim], overwritten
     */
    void attend(int layer, int position, int tokens, float[] queries, int heads, float[] out);

    /**
     * Declares positions {@code >= length} stale: the sequence is being rewound (a new prompt
     * shares only the first {@code length} tokens with the cached one) and they will be written
     * again before they are attended. Caches that keep per-block summaries (AETHER metadata)
     * must drop those of the affected blocks; the plain caches need do nothing.
     */
    default void truncate(int length) {
        if (length < 0 || length > capacity()) {
            throw new IllegalArgumentException("truncate length " + length + " outside [0, " + capacity() + "]");
        }
    }
}
