package ai.aether.eval;

import ai.aether.model.AetherKvCache;
import ai.aether.npz.NpyArray;
import ai.aether.npz.NpzWriter;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a real model's KV cache as the {@code .npz} that {@code aether bench --kv-file} reads
 * ({@code ai.aether.bench.NpzKvSource}): {@code keys} and {@code values} {@code (layers, kvHeads,
 * tokens, headDim)} float16, post-RoPE, as the cache stores them; {@code queries}
 * {@code (layers, queryHeads, headDim)} float32, the latest decode step's; {@code layers} the
 * layer indices.
 */
public final class KvDump {

    private KvDump() {}

    /**
     * @param tokens positions to dump (the prompt, say); the queries are those of the decode step
     *               that ran last, which attended to at least these positions
     */
    public static void write(AetherKvCache cache, int tokens, Path file) throws IOException {
        int layers = cache.layers(), kvHeads = cache.kvHeads(), dim = cache.headDim();
        int queryHeads = cache.lastDecodeQueries(0).length / dim;
        float[] keys = new float[layers * kvHeads * tokens * dim], values = new float[keys.length];  // [layers][kvHeads][tokens][dim]
        float[] queries = new float[layers * queryHeads * dim];                                       // [layers][queryHeads][dim]
        int[] layerIds = new int[layers];
        for (int layer = 0; layer < layers; layer++) {
            float[][] kv = cache.readLayer(layer, tokens);
            System.arraycopy(kv[0], 0, keys, layer * kvHeads * tokens * dim, kv[0].length);
            System.arraycopy(kv[1], 0, values, layer * kvHeads * tokens * dim, kv[1].length);
            System.arraycopy(cache.lastDecodeQueries(layer), 0, queries, layer * queryHeads * dim, queryHeads * dim);
            layerIds[layer] = layer;
        }
        try (NpzWriter npz = new NpzWriter(file)) {
            npz.add("keys", NpyArray.ofFloat16(keys, layers, kvHeads, tokens, dim));
            npz.add("values", NpyArray.ofFloat16(values, layers, kvHeads, tokens, dim));
            npz.add("queries", NpyArray.ofFloats(queries, layers, queryHeads, dim));
            npz.add("layers", NpyArray.ofInts(layerIds, layers));
        }
    }
}
