package ai.aether.eval;

import ai.aether.model.AetherKvCache;
import ai.aether.npz.NpyArray;
import ai.aether.npz.NpzWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes a real model's KV cache as the {@code .npz} that {@code aether bench --kv-file} reads
 * ({@code ai.aether.bench.NpzKvSource}), with the arrays of the oracle's dumps
 * ({@code /work/kvdumps/README}):
 * <ul>
 *   <li>{@code keys}, {@code values}: {@code (layers, kvHeads, tokens, headDim)} float16, post-RoPE,
 *   as the cache stores them;</li>
 *   <li>{@code queries}: {@code (layers, queryHeads, headDim)} float32, the latest decode step's;</li>
 *   <li>{@code prefill_queries} {@code (layers, queryHeads, P, headDim)} float32 and
 *   {@code prefill_positions} {@code (P,)}: when the cache recorded some
 *   ({@link AetherKvCache#recordPrefillQueries}); the query at position p attends to keys 0..p;</li>
 *   <li>{@code layers} {@code (layers,)}, {@code block_size} and {@code head_dim} scalars, and
 *   {@code token_ids} {@code (tokens,)} when given.</li>
 * </ul>
 * Channels are in the GGUF's layout (interleaved RoPE pairs for Llama models), not transformers'
 * half-split one; dot products, all that attention and the benchmark use, are the same.
 */
public final class KvDump {

    /** Prefill positions the dumps keep queries of: every 8th of the last 512 (as the oracle's dumps). */
    static final int PREFILL_QUERY_SPAN = 512, PREFILL_QUERY_STRIDE = 8;

    private KvDump() {}

    /**
     * Prefill positions worth recording for a prompt of {@code promptLength} tokens: every 8th of
     * the last 512, ending at the last prompt position; ascending.
     */
    public static int[] prefillQueryPositions(int promptLength) {
        if (promptLength < 1) throw new IllegalArgumentException("prompt length must be >= 1, got " + promptLength);
        int first = Math.max(0, promptLength - PREFILL_QUERY_SPAN);
        int count = (promptLength - 1 - first) / PREFILL_QUERY_STRIDE + 1;
        int[] positions = new int[count];
        for (int i = 0; i < count; i++) positions[i] = promptLength - 1 - (count - 1 - i) * PREFILL_QUERY_STRIDE;
        return positions;
    }

    /**
     * @param tokens   positions to dump (the prompt, say); the queries are those of the decode step
     *                 that ran last, which attended to at least these positions
     * @param tokenIds the ids of those positions, or null
     */
    public static void write(AetherKvCache cache, int tokens, int[] tokenIds, Path file) throws IOException {
        int layers = cache.layers(), kvHeads = cache.kvHeads(), dim = cache.headDim();
        if (tokenIds != null && tokenIds.length != tokens) {
            throw new IllegalArgumentException("token ids (" + tokenIds.length + ") must match the dumped tokens (" + tokens + ")");
        }
        float[] firstQueries = cache.lastDecodeQueries(0);
        boolean decoded = false;
        for (float q : firstQueries) decoded |= q != 0;
        if (!decoded) throw new IllegalStateException("no decode step ran yet: a KV dump needs a decode step's queries");
        int queryHeads = firstQueries.length / dim;
        int[] prefillPositions = Arrays.stream(cache.recordedPrefillPositions()).filter(p -> p < tokens).toArray();
        int prefilled = prefillPositions.length;
        float[] keys = new float[layers * kvHeads * tokens * dim], values = new float[keys.length];  // [layers][kvHeads][tokens][dim]
        float[] queries = new float[layers * queryHeads * dim];                                       // [layers][queryHeads][dim]
        float[] prefillQueries = new float[layers * queryHeads * prefilled * dim];                    // [layers][queryHeads][P][dim]
        int[] layerIds = new int[layers];
        for (int layer = 0; layer < layers; layer++) {
            float[][] kv = cache.readLayer(layer, tokens);
            System.arraycopy(kv[0], 0, keys, layer * kvHeads * tokens * dim, kv[0].length);
            System.arraycopy(kv[1], 0, values, layer * kvHeads * tokens * dim, kv[1].length);
            System.arraycopy(cache.lastDecodeQueries(layer), 0, queries, layer * queryHeads * dim, queryHeads * dim);
            float[] recorded = cache.prefillQueries(layer);  // [recorded positions][queryHeads][dim]
            for (int i = 0; i < prefilled; i++) {
                for (int h = 0; h < queryHeads; h++) {
                    System.arraycopy(recorded, (i * queryHeads + h) * dim, prefillQueries, ((layer * queryHeads + h) * prefilled + i) * dim, dim);
                }
            }
            layerIds[layer] = layer;
        }
        try (NpzWriter npz = new NpzWriter(file)) {
            npz.add("keys", NpyArray.ofFloat16(keys, layers, kvHeads, tokens, dim));
            npz.add("values", NpyArray.ofFloat16(values, layers, kvHeads, tokens, dim));
            npz.add("queries", NpyArray.ofFloats(queries, layers, queryHeads, dim));
            npz.add("layers", NpyArray.ofInts(layerIds, layers));
            npz.add("block_size", NpyArray.ofInts(new int[] {cache.config().blockSize()}));
            npz.add("head_dim", NpyArray.ofInts(new int[] {dim}));
            if (prefilled > 0) {
                npz.add("prefill_queries", NpyArray.ofFloats(prefillQueries, layers, queryHeads, prefilled, dim));
                npz.add("prefill_positions", NpyArray.ofInts(prefillPositions, prefilled));
            }
            if (tokenIds != null) npz.add("token_ids", NpyArray.ofInts(tokenIds, tokens));
        }
    }
}
