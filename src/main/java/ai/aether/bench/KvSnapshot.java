package ai.aether.bench;

/**
 * The attention inputs of one decode step of one layer of one sequence: the cached keys and
 * values (post-RoPE, as a KV cache holds them) and the new token's query vectors.
 *
 * @param label      where it came from, e.g. "synthetic seed 42 #0" or "kv.npz layer 7"
 * @param kvHeads    KV heads, >= 1
 * @param queryHeads query heads, a multiple of kvHeads (GQA group = queryHeads / kvHeads)
 * @param tokens     cached tokens S, >= 1
 * @param headDim    D, >= 1
 * @param keys       {@code [kvHeads][tokens][headDim]}
 * @param values     {@code [kvHeads][tokens][headDim]}
 * @param queries    {@code [queryHeads][headDim]}, post-RoPE, unscaled
 */
public record KvSnapshot(String label, int kvHeads, int queryHeads, int tokens, int headDim,
                         float[] keys, float[] values, float[] queries) {

    public KvSnapshot {
        if (kvHeads < 1) throw new IllegalArgumentException(label + ": kvHeads must be >= 1, got " + kvHeads);
        if (queryHeads < 1 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException(label + ": queryHeads must be a positive multiple of kvHeads (" + kvHeads + "), got " + queryHeads);
        }
        if (tokens < 1) throw new IllegalArgumentException(label + ": tokens must be >= 1, got " + tokens);
        if (headDim < 1) throw new IllegalArgumentException(label + ": headDim must be >= 1, got " + headDim);
        long kv = (long) kvHeads * tokens * headDim;
        if (keys.length != kv || values.length != kv) {
            throw new IllegalArgumentException(label + ": keys/values must hold kvHeads*tokens*headDim = " + kv
                    + " floats, got " + keys.length + "/" + values.length);
        }
        if (queries.length != (long) queryHeads * headDim) {
            throw new IllegalArgumentException(label + ": queries must hold queryHeads*headDim = " + (long) queryHeads * headDim
                    + " floats, got " + queries.length);
        }
    }

    /** Query heads sharing one KV head. */
    public int groupSize() {
        return queryHeads / kvHeads;
    }

    /** Offset of token {@code t} of KV head {@code h} in {@link #keys} / {@link #values}. */
    public int kvOffset(int kvHead, int token) {
        return (kvHead * tokens + token) * headDim;
    }

    /** A copy with keys and values as {@code dtype} stores them (queries unchanged): the reference the kernels are held to. */
    public KvSnapshot stored(ai.aether.kernels.attention.KvDtype dtype) {
        return new KvSnapshot(label, kvHeads, queryHeads, tokens, headDim, stored(keys, dtype), stored(values, dtype), queries);
    }

    private float[] stored(float[] x, ai.aether.kernels.attention.KvDtype dtype) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i += headDim) dtype.roundVector(x, i, headDim, out, i);  // one key or value vector at a time
        return out;
    }
}
