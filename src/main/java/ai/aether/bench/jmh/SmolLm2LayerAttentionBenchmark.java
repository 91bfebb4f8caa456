package ai.aether.bench.jmh;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.AetherKvPool;
import ai.aether.attention.EventRadar;
import ai.aether.attention.GroupCombine;
import ai.aether.attention.RadarScore;
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
 * fp16 KV unless {@code dtype} says otherwise, block 64): what one of the model's 30 layers costs per token, dense vs AETHER at the
 * default target sparsity 0.8, and radar + selection alone, per block score ({@code score}: the radar
 * score and GQA group combiner, e.g. {@code QUANTIZED_BOX/SOFTMAX_SUM}, the default). The per-token
 * attention budget for 100 tok/s at 8K is about 150 us per layer.
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

    /** KV storage ({@code -p dtype=INT8} for int8 keys and values). */
    @Param({"FP16"})
    public KvDtype dtype;

    @Param({"QUANTIZED_BOX/SOFTMAX_SUM", "KEY_SKETCH/SOFTMAX_SUM", "QUANTIZED_BOX/MAX", "SHRUNK_BOX/MAX", "SHRUNK_BOX/SOFTMAX_SUM", "QUEST/MAX"})
    public String score;

    private SequenceKvCache[] caches;
    private AetherAttention dense, sparse;
    private float[] queries;  // [1][QUERY_HEADS][HEAD_DIM]
    private float[] out;      // [1][QUERY_HEADS][HEAD_DIM]
    private EventRadar radar;
    private float[] scores;   // [QUERY_HEADS / KV_HEADS][blocks] one KV head's radar scores

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        String[] scoreAndCombine = score.split("/");
        AetherConfig base = AetherConfig.builder().blockSize(BLOCK).kvDtype(dtype).radarScore(RadarScore.valueOf(scoreAndCombine[0]))
                .groupCombine(GroupCombine.valueOf(scoreAndCombine[1])).build();
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
        radar = new EventRadar(base);
        scores = new float[QUERY_HEADS / KV_HEADS * cache.blockCount(0)];
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

    /** The radar's scores alone (every KV head, its group's rows), without selection. */
    @Benchmark
    public float radarScores() {
        SequenceKvCache cache = caches[0];
        int group = QUERY_HEADS / KV_HEADS;
        for (int h = 0; h < KV_HEADS; h++) {
            radar.scoreRows(cache.pool().metadata(), queries, h * group * HEAD_DIM, group, cache.blockIdsView(0, h), cache.blockCount(0), scores);
        }
        return scores[0];
    }

    @Benchmark
    public int radarAndSelection() {
        return sparse.select(0, caches, queries, null).keptCount(0, 0);
    }
}
