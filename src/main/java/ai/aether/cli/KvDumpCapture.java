package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.engine.KvCacheFactory;
import ai.aether.model.AetherKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.ModelConfig;

/**
 * The KV cache factory of a run whose cache is dumped ({@code generate --dump-kv}): every cache is
 * an {@link AetherKvCache} (dense runs attend densely over its blocks), the latest one is kept, and
 * it records the prefill queries of {@link #recordPrefillQueriesAt} positions.
 */
final class KvDumpCapture implements KvCacheFactory {
    private final AetherConfig blocks;  // block size and KV dtype; also the attention unless dense
    private final boolean dense;
    private int[] prefillQueryPositions = new int[0];
    private AetherKvCache latest;

    /** @param config the AETHER config, or null for dense attention over blocks of {@code blocks}' layout */
    KvDumpCapture(AetherConfig config, AetherConfig blocks) {
        this.dense = config == null;
        this.blocks = dense ? blocks : config;
    }

    /** Positions (ascending) whose prefill queries the next caches keep. */
    void recordPrefillQueriesAt(int[] positions) {
        prefillQueryPositions = positions.clone();
    }

    @Override
    public KvCache create(ModelConfig config, int capacity) {
        AetherKvCache cache = new AetherKvCache(config, capacity, blocks);
        if (dense) cache.setConfig(null);
        int[] positions = java.util.Arrays.stream(prefillQueryPositions).filter(p -> p < capacity).toArray();
        if (positions.length > 0) cache.recordPrefillQueries(positions);
        latest = cache;
        return cache;
    }

    /** The cache made last. */
    AetherKvCache latest() {
        if (latest == null) throw new IllegalStateException("no KV cache was made");
        return latest;
    }
}
