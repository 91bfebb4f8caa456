package ai.aether.bench;

import ai.aether.npz.NpyArray;
import ai.aether.npz.NpzFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Snapshots from a NumPy .npz dump of a real model (the engine's {@code --dump-kv} writes them):
 * <ul>
 *   <li>{@code keys}: {@code (layers, kvHeads, tokens, headDim)} or {@code (kvHeads, tokens, headDim)}, post-RoPE;</li>
 *   <li>{@code values}: the same shape;</li>
 *   <li>{@code queries}: {@code (layers, queryHeads, headDim)} or {@code (queryHeads, headDim)}, post-RoPE,
 *       the query of the decode step that follows the cached tokens;</li>
 * </ul>
 * float32 or float16. Each layer is one snapshot. A shorter {@code --seq-len} takes the first
 * tokens (the same query then attends to a prefix of the cache).
 */
public final class NpzKvSource implements KvSource {

    private final Path path;
    private final int layers, kvHeads, queryHeads, tokens, headDim;
    private final float[] keys;     // [layers][kvHeads][tokens][headDim]
    private final float[] values;   // [layers][kvHeads][tokens][headDim]
    private final float[] queries;  // [layers][queryHeads][headDim]
    private final int[] layerIds;   // [layers] model layer index of each entry (the optional 'layers' array)

    public NpzKvSource(Path path) throws IOException {
        this.path = path;
        try (NpzFile npz = NpzFile.open(path)) {
            NpyArray k = npz.get("keys");
            int[] ks = k.shape();
            if (ks.length != 3 && ks.length != 4) {
                throw new IllegalArgumentException(path + ": 'keys' must have shape (layers, kvHeads, tokens, headDim) or (kvHeads, tokens, headDim), got "
                        + Arrays.toString(ks));
            }
            boolean layered = ks.length == 4;
            this.layers = layered ? ks[0] : 1;
            this.kvHeads = ks[ks.length - 3];
            this.tokens = ks[ks.length - 2];
            this.headDim = ks[ks.length - 1];
            requireFloat(k, "keys");
            this.keys = k.toFloatArray();
            NpyArray v = npz.get("values");
            if (!Arrays.equals(v.shape(), ks)) {
                throw new IllegalArgumentException(path + ": 'values' must have the shape of 'keys' " + Arrays.toString(ks) + ", got " + Arrays.toString(v.shape()));
            }
            requireFloat(v, "values");
            this.values = v.toFloatArray();
            NpyArray q = npz.get("queries");
            int[] qs = q.shape();
            int[] expectedPrefix = layered ? new int[]{layers} : new int[0];
            if (qs.length != expectedPrefix.length + 2 || (layered && qs[0] != layers) || qs[qs.length - 1] != headDim) {
                throw new IllegalArgumentException(path + ": 'queries' must have shape " + (layered ? "(" + layers + ", queryHeads, " : "(queryHeads, ")
                        + headDim + ") to match 'keys' " + Arrays.toString(ks) + ", got " + Arrays.toString(qs));
            }
            this.queryHeads = qs[qs.length - 2];
            if (queryHeads < 1 || kvHeads < 1 || queryHeads % kvHeads != 0) {
                throw new IllegalArgumentException(path + ": query heads (" + queryHeads + ") must be a positive multiple of KV heads (" + kvHeads + ")");
            }
            if (tokens < 1 || headDim < 1) throw new IllegalArgumentException(path + ": 'keys' has an empty axis: " + Arrays.toString(ks));
            requireFloat(q, "queries");
            this.queries = q.toFloatArray();
            int[] ids = new int[layers];
            for (int i = 0; i < layers; i++) ids[i] = i;
            if (npz.contains("layers")) {
                NpyArray l = npz.get("layers");
                if (l.dtype().isFloat() || l.size() != layers) {
                    throw new IllegalArgumentException(path + ": optional 'layers' must hold " + layers + " integer layer indices, got " + l);
                }
                ids = l.toIntArray();
            }
            this.layerIds = ids;
        }
        for (float x : keys) if (!Float.isFinite(x)) throw new IllegalArgumentException(path + ": 'keys' holds a non-finite value " + x);
        for (float x : values) if (!Float.isFinite(x)) throw new IllegalArgumentException(path + ": 'values' holds a non-finite value " + x);
        for (float x : queries) if (!Float.isFinite(x)) throw new IllegalArgumentException(path + ": 'queries' holds a non-finite value " + x);
    }

    private void requireFloat(NpyArray a, String name) {
        if (!a.dtype().isFloat()) throw new IllegalArgumentException(path + ": '" + name + "' must be float32 or float16, got " + a.dtype().descr());
    }

    @Override
    public String describe() {
        return path.getFileName() + " (" + layers + " layers, " + queryHeads + "/" + kvHeads + " heads, D=" + headDim + ", " + tokens + " tokens)";
    }

    @Override
    public int count() {
        return layers;
    }

    @Override
    public int maxTokens() {
        return tokens;
    }

    public int kvHeads() { return kvHeads; }
    public int queryHeads() { return queryHeads; }
    public int headDim() { return headDim; }

    @Override
    public KvSnapshot load(int layer, int n) {
        if (n > tokens) throw new IllegalArgumentException(path + " holds " + tokens + " tokens, " + n + " were asked for");
        int perHead = n * headDim;
        float[] k = new float[kvHeads * perHead];
        float[] v = new float[kvHeads * perHead];
        for (int h = 0; h < kvHeads; h++) {
            long src = ((long) layer * kvHeads + h) * tokens * headDim;
            System.arraycopy(keys, (int) src, k, h * perHead, perHead);
            System.arraycopy(values, (int) src, v, h * perHead, perHead);
        }
        float[] q = Arrays.copyOfRange(queries, layer * queryHeads * headDim, (layer + 1) * queryHeads * headDim);
        return new KvSnapshot(path.getFileName() + " layer " + layerIds[layer], kvHeads, queryHeads, n, headDim, k, v, q);
    }
}
