package ai.aether.kernels;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The kernel thread team: every index exactly once, nesting, failures, and callers on several threads. */
class ParallelTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    @Test
    void everyIndexRunsExactlyOnceAcrossThreadCountsAndSizes() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int n = 0; n <= 70; n++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                for (int rep = 0; rep < 20; rep++) Parallel.forEach(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) assertEquals(20, hits.get(i), "threads " + threads + " n " + n + " index " + i);
            }
        }
    }

    @Test
    void nestedRegionsRunInline() {
        Parallel.setThreads(3);
        AtomicIntegerArray hits = new AtomicIntegerArray(40 * 7);
        Parallel.forEach(40, i -> Parallel.forEach(7, j -> hits.incrementAndGet(i * 7 + j)));
        for (int k = 0; k < hits.length(); k++) assertEquals(1, hits.get(k), "cell " + k);
    }

    @Test
    void aFailingChunkRethrowsOnTheCallerAndTheTeamKeepsWorking() {
        Parallel.setThreads(2);
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forEach(100, i -> {
            if (i == 77) throw boom;
        }));
        assertSame(boom, thrown);
        AtomicLong sum = new AtomicLong();
        Parallel.forEach(100, sum::addAndGet);
        assertEquals(4950, sum.get());
    }

    @Test
    void callersOnSeveralThreadsGetCorrectResults() throws Exception {
        Parallel.setThreads(2);
        Thread[] callers = new Thread[4];
        long[] totals = new long[callers.length];
        for (int c = 0; c < callers.length; c++) {
            int caller = c;
            callers[c] = new Thread(() -> {
                for (int rep = 0; rep < 500; rep++) {
                    AtomicLong sum = new AtomicLong();
                    Parallel.forRange(1000, (from, to) -> {
                        long s = 0;
                        for (int i = from; i < to; i++) s += i;
                        sum.addAndGet(s);
                    });
                    totals[caller] += sum.get();
                }
            });
            callers[c].start();
        }
        for (Thread t : callers) t.join();
        for (long total : totals) assertEquals(500L * 499_500, total);
    }

    @Test
    void threadCountOutsideItsRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertEquals("threads must be in [1, 1024], got 0", e.getMessage());
    }
}
