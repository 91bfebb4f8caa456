package ai.aether.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The one place that decides how many threads compute kernels use. Every multi-threaded kernel
 * (matmuls, attention, metadata) splits its work through {@link #forEach} or {@link #forRange},
 * so a single setting ({@code --threads} on the CLI, {@link #setThreads} in code) controls the
 * whole engine.
 *
 * <p>Why not a ForkJoinPool: a decode step runs ~150 parallel regions of 10-100 us each, and
 * handing work to a pool and waiting for it to come back costs 10-30 us per region. Here the
 * calling thread takes part in the work and {@code threads - 1} persistent workers spin briefly
 * between regions (then park), so a region starts in well under a microsecond while decoding.
 *
 * <p>Work is split into {@code threads} contiguous chunks (the kernels are memory-bound and stream
 * neighbouring rows best on one core); chunks are claimed dynamically, so a worker the OS has not
 * scheduled yet does not hold the region back: the caller takes its chunk too.
 *
 * <p>Nested calls (from inside a region) and calls from a second thread while a region runs
 * execute inline on the calling thread: always correct, never deadlocking.
 */
public final class Parallel {

    /** How long an idle worker spins before parking: covers the gaps between a step's regions. */
    private static final long SPIN_NANOS = 200_000;

    private static volatile Team team = new Team(defaultThreads());

    private Parallel() {}

    private static int defaultThreads() {
        String env = System.getenv("AETHER_THREADS");
        if (env != null && !env.isBlank()) {
            try {
                int n = Integer.parseInt(env.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the error below
            }
            throw new IllegalArgumentException("AETHER_THREADS must be a positive integer, got '" + env + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Threads used by kernels from now on (the calling thread counts as one). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024], got " + threads);
        }
        if (threads == team.threads) return;
        Team old = team;
        team = new Team(threads);
        old.shutdown();
    }

    public static int threads() {
        return team.threads;
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
        team.run(n, body);
    }

    /** The workers and the one region they are running. */
    private static final class Team {
        final int threads;
        private final Worker[] workers;
        private final ReentrantLock dispatch = new ReentrantLock();

        // The current region: written by the dispatcher before `ticket` moves to a new generation
        // (that volatile write publishes them). ticket = generation << 32 | next unclaimed chunk; a
        // chunk is claimed by a CAS that also checks the generation, so a late worker can never run
        // a chunk of a region that has already finished.
        private RangeBody body;
        private int n, chunks;
        private final AtomicLong ticket = new AtomicLong();
        private final AtomicInteger pending = new AtomicInteger();
        private volatile Throwable failure;
        private volatile boolean stopped;

        Team(int threads) {
            this.threads = threads;
            this.workers = new Worker[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        void run(int n, RangeBody body) {
            if (threads == 1 || n == 1 || Thread.currentThread() instanceof Worker || !dispatch.tryLock()) {
                body.run(0, n);  // inline: single-threaded, trivially small, nested, or another region is running
                return;
            }
            try {
                if (dispatch.getHoldCount() > 1) {  // nested call from the caller's own chunk
                    body.run(0, n);
                    return;
                }
                this.body = body;
                this.n = n;
                this.chunks = Math.min(n, threads);
                this.failure = null;
                pending.set(chunks);
                long generation = (ticket.get() >>> 32) + 1;
                ticket.set(generation << 32);  // publishes the region to the workers
                for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
                work(generation);
                while (pending.get() != 0) Thread.onSpinWait();
                Throwable t = failure;
                if (t instanceof RuntimeException e) throw e;
                if (t instanceof Error e) throw e;
                if (t != null) throw new IllegalStateException(t);
            } finally {
                dispatch.unlock();
            }
        }

        long generation() {
            return ticket.get() >>> 32;
        }

        /** Claims and runs chunks of region {@code generation} until none are left (or it is over). */
        void work(long generation) {
            RangeBody b = body;
            int total = n, count = chunks;
            while (true) {
                long t = ticket.get();
                int c = (int) t;
                if (t >>> 32 != generation || c >= count) return;
                if (!ticket.compareAndSet(t, t + 1)) continue;
                try {
                    if (failure == null) b.run((int) ((long) total * c / count), (int) ((long) total * (c + 1) / count));
                } catch (Throwable e) {
                    failure = e;
                } finally {
                    pending.decrementAndGet();
                }
            }
        }

        void shutdown() {
            stopped = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Worker extends Thread {
        private final Team team;
        volatile boolean parked;

        Worker(Team team, int index) {
            super("aether-kernel-" + index);
            this.team = team;
            setDaemon(true);
        }

        @Override
        public void run() {
            long seen = team.generation();
            while (!team.stopped) {
                long idleSince = System.nanoTime();
                while (team.generation() == seen && !team.stopped) {
                    if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (team.generation() == seen && !team.stopped) LockSupport.parkNanos(this, 50_000_000L);
                        parked = false;
                    }
                }
                if (team.stopped) return;
                seen = team.generation();
                team.work(seen);
            }
        }
    }
}
