package ai.aether.engine;

import ai.aether.attention.AetherConfig;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.AetherKvCache;
import ai.aether.model.BlockedKvCache;
import ai.aether.model.ContiguousKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.ModelConfig;

/** Makes the KV cache of a sequence; the dense contiguous cache by default, the AETHER block cache when configured. */
@FunctionalInterface
public interface KvCacheFactory {

    KvCache create(ModelConfig config, int capacity);

    /** Dense attention over fp32 KV blocks (8K positions of SmolLM2-135M take 377 MB). */
    KvCacheFactory DENSE_F32 = (config, capacity) -> BlockedKvCache.forModel(config, capacity, KvDtype.FP32);

    /** Dense attention over fp16 KV blocks (half the memory; keys and values rounded to fp16). */
    KvCacheFactory DENSE_F16 = (config, capacity) -> BlockedKvCache.forModel(config, capacity, KvDtype.FP16);

    /** The plain contiguous fp32 cache with straightforward attention: the simple reference. */
    KvCacheFactory CONTIGUOUS_F32 = (config, capacity) -> ContiguousKvCache.forModel(config, capacity, ContiguousKvCache.Precision.F32);

    /** AETHER block-sparse attention with {@code config}; {@code null} means dense fp16 ({@link #DENSE_F16}). */
    static KvCacheFactory aether(AetherConfig config) {
        if (config == null) return DENSE_F16;
        return (model, capacity) -> new AetherKvCache(model, capacity, config);
    }
}
