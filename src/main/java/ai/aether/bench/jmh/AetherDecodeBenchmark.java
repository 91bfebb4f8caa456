package ai.aether.bench.jmh;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.AetherKvPool;
import ai.aether.attention.SelectionMode;
import ai.aether.attention.SequenceKvCache;
import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvDtype;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One decode step of one layer at long context (Llama-7B-like attention shape: H_q = 32,
 * H_kv = 8, D = 128, S = 16384, blocks of 64): dense attention vs AETHER TOP_K at ~80% sparsity
 * (47 best blocks + 1 sink + 4 window blocks = 52 of 256), and the radar + selection alone.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar target/aether-all.jar ...} is the CLI;
 * for JMH: {@code java --add-modules jdk.incubator.vector -cp target/aether-all.jar org.openjdk.jmh.Main AetherDecodeBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
public class AetherDecodeBenchmark {

    private static final int QUERY_HEADS = 32, KV_HEADS = 8, HEAD_DIM = 128, LENGTH = 16384, BLOCK = 64;

    @Param({"FP32", "FP16", "INT8"})
    public KvDtype dtype;

    @Param({"1", "2"})
    public int threads;

    private SequenceKvCache[] caches;
    private AetherAttention dense;
    private AetherAttention sparse;
    private float[] queries;  // [1][QUERY_HEADS][HEAD_DIM]
    private float[] out;      // [1][QUERY_HEADS][HEAD_DIM]

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        AetherConfig base = AetherConfig.builder().blockSize(BLOCK).kvDtype(dtype).build();
        AetherKvPool pool = AetherKvPool.forConfig(base, HEAD_DIM, KV_HEADS * LENGTH / BLOCK);
        SequenceKvCache cache = pool.newSequence(1, KV_HEADS);
        SplittableRandom random = new SplittableRandom(42);
        int chunk = 1024;
        float[] keys = new float[chunk * KV_HEADS * HEAD_DIM], values = new float[keys.length];  // [chunk][KV_HEADS][HEAD_DIM]
        for (int done = 0; done < LENGTH; done += chunk) {
            for (int i = 0; i < keys.length; i++) {
                keys[i] = (float) random.nextGaussian();
                values[i] = (float) random.nextGaussian();
            }
            cache.append(0, keys, values, chunk);
        }
        caches = new SequenceKvCache[] {cache};
        queries = new float[QUERY_HEADS * HEAD_DIM];
        for (int i = 0; i < queries.length; i++) queries[i] = (float) (random.nextGaussian() * 2);
        out = new float[queries.length];
        dense = new AetherAttention(base.toBuilder().denseLayers(0).build(), QUERY_HEADS, KV_HEADS, HEAD_DIM);
        int blocks = LENGTH / BLOCK, budget = (int) Math.ceil(0.2 * blocks);
        sparse = new AetherAttention(base.toBuilder().selection(SelectionMode.TOP_K).topK(budget - 1 - 4).build(),
                QUERY_HEADS, KV_HEADS, HEAD_DIM);
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
    public float sparseDecodeTopK80() {
        sparse.decode(0, caches, queries, out, null);
        return out[0];
    }

    @Benchmark
    public int radarAndSelection() {
        return sparse.select(0, caches, queries, null).keptCount(0, 0);
    }
}
