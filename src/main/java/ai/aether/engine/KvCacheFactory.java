package ai.aether.engine;

import ai.aether.kernels.attention.KvDtype;
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
}
