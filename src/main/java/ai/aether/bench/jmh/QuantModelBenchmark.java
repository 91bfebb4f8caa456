package ai.aether.bench.jmh;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.KvCache;
import ai.aether.model.Model;
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

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end model speed on the dense block cache: {@code prefill} runs {@code depth} prompt
 * tokens from position 0 (one op = the whole prompt: tokens/s = depth / time), {@code decode}
 * runs one token with {@code depth} tokens already cached (tokens/s = 1 / time; each op
 * rewrites the same position, so the depth stays fixed). The prompt is tinyshakespeare bytes
 * mapped into the vocabulary; speed does not depend on which ids they are. Peak RSS (VmHWM) is
 * printed at tear-down.
 *
 * <pre>java -cp ... org.openjdk.jmh.Main QuantModelBenchmark -wi 2 -i 3 -f 1 -p model=... -p depth=128,2048,8191</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx4g"})
public class QuantModelBenchmark {

    @Param({"../shared/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"})
    public String model;

    @Param({"128"})
    public int depth;

    @Param({"2"})
    public int threads;

    /** KV storage: FP32 or FP16. */
    @Param({"FP32"})
    public String kv;

    private Model loaded;
    private KvCache cache;
    private int[] prompt; // [depth] token ids

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Parallel.setThreads(threads);
        loaded = Model.load(Path.of(model));
        int vocab = loaded.config().vocabSize();
        if (depth < 1 || depth >= loaded.config().contextLength()) {
            throw new IllegalArgumentException("depth must be in [1, " + (loaded.config().contextLength() - 1) + "], got " + depth);
        }
        byte[] text = Files.readAllBytes(Path.of("../shared/data/tinyshakespeare.txt"));
        prompt = new int[depth];
        for (int i = 0; i < depth; i++) prompt[i] = 3 + (text[i % text.length] & 0xFF) % (vocab - 3);
        cache = loaded.newKvCache(depth + 1, KvDtype.valueOf(kv));
        loaded.prefill(prompt, 0, cache);
    }

    @Benchmark
    public float[] decode() {
        return loaded.decode(prompt[depth - 1], depth, cache);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    public float[] prefill() {
        return loaded.prefill(prompt, 0, cache);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
            if (line.startsWith("VmHWM")) System.out.println("peak RSS " + line.substring(6).strip() + " (depth " + depth + ")");
        }
        loaded.close();
    }
}
