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
 * One layer's decode attention at SmolLM2-135M's shape (9 query heads, 3 KV heads, head dim 64,
 * fp16 KV, block 64): what one of the model's 30 layers costs per token, dense vs AETHER at the
 * default target sparsity 0.8, and radar + selection alone. The per-token attention budget for
 * 100 tok/s at 8K is about 150 us per layer.
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp target/aether-all.jar org.openjdk.jmh.Main SmolLm2LayerAttentionBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class SmolLm2LayerAttentionBenchmark {

    private static final int QUERY_HEADS = 9, KV_HEADS = 3, HEAD_DIM = 64, BLOCK = 64;

    @Param({"2048", "8192"})
    public int length;

    @Param({"2"})
    public int threads;

    private SequenceKvCache[] caches;
    private AetherAttention dense, sparse;
    private float[] queries;  // [1][QUERY_HEADS][HEAD_DIM]
    private float[] out;      // [1][QUERY_HEADS][HEAD_DIM]

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        AetherConfig base = AetherConfig.builder().blockSize(BLOCK).kvDtype(KvDtype.FP16).build();
        AetherKvPool pool = AetherKvPool.forConfig(base, HEAD_DIM, KV_HEADS * length / BLOCK + KV_HEADS);
        SequenceKvCache cache = pool.newSequence(1, KV_HEADS);
        SplittableRandom random = new SplittableRandom(7);
        float[] keys = new float[length * KV_HEADS * HEAD_DIM], values = new float[keys.length];  // [length][KV_HEADS][HEAD_DIM]
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) random.nextGaussian();
            values[i] = (float) random.nextGaussian();
        }
        cache.append(0, keys, values, length);
        caches = new SequenceKvCache[] {cache};
        queries = new float[QUERY_HEADS * HEAD_DIM];
        for (int i = 0; i < queries.length; i++) queries[i] = (float) (random.nextGaussian() * 2);
        out = new float[queries.length];
        dense = new AetherAttention(base.toBuilder().denseLayers(0).build(), QUERY_HEADS, KV_HEADS, HEAD_DIM);
        sparse = new AetherAttention(base, QUERY_HEADS, KV_HEADS, HEAD_DIM);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        caches[0].release();
    }

    @Benchmark
    public float denseDecode() {
        dense.decode(0, caches, queries, out, null);
        return out[0];
    }

    @Benchmark
    public float aetherDecode80() {
        sparse.decode(0, caches, queries, out, null);
        return out[0];
    }

    @Benchmark
    public int radarAndSelection() {
        return sparse.select(0, caches, queries, null).keptCount(0, 0);
    }
}
