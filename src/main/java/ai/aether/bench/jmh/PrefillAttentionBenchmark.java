package ai.aether.bench.jmh;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.AetherKvPool;
import ai.aether.attention.SequenceKvCache;
import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvDtype;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One SmolLM2 layer's causal prefill attention (9 query heads, 3 KV heads, head dim 64, block
 * 64) for one 256-token prefill chunk whose last token sits at position {@code length - 1}: what
 * each layer costs per chunk late in a long prompt. Dense prefill attention is quadratic, so at
 * 8K it is most of a prompt's prefill time (time to first token).
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp target/aether-all.jar org.openjdk.jmh.Main PrefillAttentionBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class PrefillAttentionBenchmark {

    private static final int QUERY_HEADS = 9, KV_HEADS = 3, HEAD_DIM = 64, BLOCK = 64, CHUNK = 256;

    @Param({"8192"})
    public int length;

    @Param({"2"})
    public int threads;

    @Param({"FP16"})
    public KvDtype dtype;

    private SequenceKvCache cache;
    private AetherAttention attention;
    private float[] queries;  // [CHUNK][QUERY_HEADS][HEAD_DIM]
    private float[] out;      // [CHUNK][QUERY_HEADS][HEAD_DIM]

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        AetherConfig config = AetherConfig.builder().blockSize(BLOCK).kvDtype(dtype).build();
        AetherKvPool pool = AetherKvPool.forConfig(config, HEAD_DIM, KV_HEADS * length / BLOCK + KV_HEADS);
        cache = pool.newSequence(1, KV_HEADS);
        SplittableRandom random = new SplittableRandom(11);
        float[] keys = new float[length * KV_HEADS * HEAD_DIM], values = new float[keys.length];  // [length][KV_HEADS][HEAD_DIM]
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) random.nextGaussian();
            values[i] = (float) random.nextGaussian();
        }
        cache.append(0, keys, values, length);
        queries = new float[CHUNK * QUERY_HEADS * HEAD_DIM];
        for (int i = 0; i < queries.length; i++) queries[i] = (float) (random.nextGaussian() * 2);
        out = new float[queries.length];
        attention = new AetherAttention(config, QUERY_HEADS, KV_HEADS, HEAD_DIM);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.release();
    }

    @Benchmark
    public float lastChunk() {
        attention.prefill(0, cache, length - CHUNK, CHUNK, queries, out);
        return out[0];
    }
}
