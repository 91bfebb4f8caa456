package ai.aether.bench.jmh;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.quant.WeightFormat;
import ai.aether.kernels.quant.WeightMatrix;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Decode (one token) and prefill (a batch) products on an off-heap matrix larger than the
 * caches, shaped like SmolLM2's tied output head ([49152][576]), so decode is measured against
 * memory bandwidth: bytes = rows * rowBytes per call.
 *
 * <pre>java -cp ... org.openjdk.jmh.Main QuantMatVec -wi 2 -i 3 -f 1 -p threads=2</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class QuantMatVecBenchmark {

    @Param({"Q4_1", "Q8_0", "Q4_0", "F16", "Q4_K"})
    public String format;

    @Param({"2"})
    public int threads;

    @Param({"49152"})
    public int rows;

    @Param({"576"})
    public int cols;

    @Param({"64"})
    public int tokens;

    private Arena arena;
    private WeightMatrix matrix;
    private float[] x;      // [cols] one token
    private float[] y;      // [rows]
    private float[] batch;  // [tokens][cols]
    private float[] out;    // [tokens][rows]

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        WeightFormat weightFormat = WeightFormat.valueOf(format);
        arena = Arena.ofShared();
        long bytes = weightFormat.rowBytes(cols) * rows;
        MemorySegment data = arena.allocate(bytes, 64);
        Random random = new Random(42);
        for (long i = 0; i < bytes; i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        // Keep every scale a small finite fp16 (random bits may be NaN): 0x2000 = 2^-7.
        int blockBytes = weightFormat.bytesPerBlock();
        if (weightFormat != WeightFormat.F16) {
            int scaleAt = weightFormat == WeightFormat.Q6_K ? 208 : 0;
            for (long b = 0; b < bytes / blockBytes; b++) {
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * blockBytes + scaleAt, (short) 0x2000);
            }
        } else {
            for (long i = 0; i < bytes; i += 2) data.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) 0x2000);
        }
        matrix = new WeightMatrix("bench", weightFormat, data, rows, cols);
        x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) random.nextGaussian();
        y = new float[rows];
        batch = new float[tokens * cols];
        for (int i = 0; i < batch.length; i++) batch[i] = (float) random.nextGaussian();
        out = new float[tokens * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matVec() {
        matrix.matVec(x, y);
        return y;
    }

    @Benchmark
    public float[] matMul() {
        matrix.matMul(batch, tokens, out);
        return out;
    }
}
