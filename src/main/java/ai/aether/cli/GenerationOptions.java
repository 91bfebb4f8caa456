package ai.aether.cli;

import ai.aether.engine.GenerationParams;
import ai.aether.engine.KvCacheFactory;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.BlockedKvCache;
import ai.aether.engine.LLM;
import ai.aether.engine.SamplerConfig;
import ai.aether.kernels.Parallel;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import ai.aether.attention.AetherConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Model, sampling and thread options shared by {@code generate} and {@code chat}. */
final class GenerationOptions {

    @Mixin
    ModelOption model;

    @Mixin
    AetherOptions aether;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", paramLabel = "T", description = "Sampling temperature; 0 is greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "Keep the K most likely tokens; 0 keeps all (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "Nucleus sampling mass in (0, 1] (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P", description = "Drop tokens below P x the top probability (default ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "R", description = "Repetition penalty over the last 64 tokens; 1 is off (default ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: a random one, printed at the end).")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the output contains TEXT (repeatable).")
    List<String> stops = new ArrayList<>();

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: AETHER_THREADS or all cores).")
    Integer threads;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N", description = "KV cache positions; 0 = the model's context (default).")
    int context;

    long effectiveSeed() {
        if (seed == null) seed = ThreadLocalRandom.current().nextLong();
        return seed;
    }

    GenerationParams params() {
        SamplerConfig sampler = new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, 64, effectiveSeed());
        return new GenerationParams(maxTokens, sampler, stops, Set.of());
    }

    /** Applies --threads, resolves --model (default smollm2) and loads it with AETHER attention, or dense with --dense. */
    LLM load() throws IOException {
        AetherConfig config = aether.configOrDense();
        KvDtype dtype = aether.kvDtype();
        return load(config == null ? (c, capacity) -> BlockedKvCache.forModel(c, capacity, dtype) : KvCacheFactory.aether(config));
    }

    /** As {@link #load()}, every cache an AETHER block cache that {@code capture} keeps (dense with --dense), for --dump-kv. */
    LLM load(KvDumpCapture capture) throws IOException {
        return load((KvCacheFactory) capture);
    }

    /** A capture for this run's AETHER flags. */
    KvDumpCapture dumpCapture() {
        return new KvDumpCapture(aether.configOrDense(), aether.config());
    }

    private LLM load(KvCacheFactory cache) throws IOException {
        if (threads != null) Parallel.setThreads(threads);
        Path file = model.resolveOr("smollm2").path();
        LLM llm = LLM.load(file, LLM.Options.DEFAULT.withContextLength(context).withKvCache(cache));
        llm.warmUp();
        return llm;
    }
}
