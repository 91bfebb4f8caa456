package ai.aether.engine;

import ai.aether.model.ContiguousKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.ModelConfig;

/** Makes the KV cache of a sequence; the dense contiguous cache by default, the AETHER block cache when configured. */
@FunctionalInterface
public interface KvCacheFactory {

    KvCache create(ModelConfig config, int capacity);

    /** Dense fp32 cache (exact; 8K positions of SmolLM2-135M take 377 MB). */
    KvCacheFactory DENSE_F32 = (config, capacity) -> ContiguousKvCache.forModel(config, capacity, ContiguousKvCache.Precision.F32);

    /** Dense fp16 cache (half the memory, keys and values rounded to fp16). */
    KvCacheFactory DENSE_F16 = (config, capacity) -> ContiguousKvCache.forModel(config, capacity, ContiguousKvCache.Precision.F16);
}
