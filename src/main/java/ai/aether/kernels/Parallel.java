package ai.aether.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The one place that decides how many threads compute kernels use. Every multi-threaded kernel
 * (matmuls, attention, metadata) splits its work through {@link #forEach}, so a single setting
 * ({@code --threads} on the CLI, {@link #setThreads} in code) controls the whole engine.
 *
 * <p>Work is split into contiguous chunks, one or a few per thread, because the kernels are
 * memory-bound and benefit from streaming neighbouring rows on one core.
 */
public final class Parallel {

    private static volatile ForkJoinPool pool = new ForkJoinPool(defaultThreads());

    private Parallel() {}

    private static int defaultThreads() {
        String env = System.getenv("AETHER_THREADS");
        if (env != null && !env.isBlank()) {
            try {
                int n = Integer.parseInt(env.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the machine default
            }
            throw new IllegalArgumentException("AETHER_THREADS must be a positive integer, got '" + env + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Threads used by kernels from now on. */
    public static synchronized void setThreads(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024], got " + threads);
        }
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = new ForkJoinPool(threads);
        old.shutdown();
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Runs {@code body.accept(i)} for every i in [0, n), split across the kernel threads. */
    public static void forEach(int n, IntConsumer body) {
        forRange(n, (from, to) -> {
            for (int i = from; i < to; i++) body.accept(i);
        });
    }

    /** A chunk of an index range, [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** Runs {@code body} over contiguous chunks covering [0, n); one chunk per thread (or fewer). */
    public static void forRange(int n, RangeBody body) {
        if (n <= 0) return;
        ForkJoinPool p = pool;
        int threads = p.getParallelism();
        if (threads == 1 || n == 1 || (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == p)) {
            body.run(0, n);  // already on a kernel thread: nested parallelism would only add overhead
            return;
        }
        int chunks = Math.min(n, threads);
        p.invoke(new Split(body, n, 0, chunks, chunks));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int n, firstChunk, lastChunk, chunks;

        Split(RangeBody body, int n, int firstChunk, int lastChunk, int chunks) {
            this.body = body; this.n = n; this.firstChunk = firstChunk; this.lastChunk = lastChunk; this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (lastChunk - firstChunk == 1) {
                long from = (long) n * firstChunk / chunks, to = (long) n * lastChunk / chunks;
                body.run((int) from, (int) to);
                return;
            }
            int mid = (firstChunk + lastChunk) >>> 1;
            invokeAll(new Split(body, n, firstChunk, mid, chunks), new Split(body, n, mid, lastChunk, chunks));
        }
    }
}
