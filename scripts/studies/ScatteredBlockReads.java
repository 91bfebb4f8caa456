import jdk.incubator.vector.*;
import java.util.*;

/**
 * Study (ninth session, 2026-12-07): why sparse decode reads KV at ~9 GB/s on 2 threads while dense
 * reads ~23. One thread reads 16 KB fp16 blocks (one KV block, K + V) out of 196 MB with a widening
 * fma loop like the attention's: consecutive blocks ~23 GB/s; blocks at random places ~7.5; two
 * random blocks interleaved in one loop ~10.8; four ~14.5; a block's two halves interleaved
 * ~9.4; touching the next block first ~6.3. So scattered blocks are limited by misses in flight,
 * and attending 2-4 kept blocks at once is the lead. Splitting the attention kernel's loops into
 * two halves of a block (channels d and d + 32, tokens t and t + 32) made the engine's attention
 * slower (2.3-2.7 -> 3.7-3.8 ms per 8K step; also in cache: JMH denseDecode 215 -> 310 us, so the
 * loop itself got worse, not the reads). Attending two full blocks at once, their keys loaded
 * side by side with the same 12 accumulators (two token chunks of each block per pass): attention
 * per 8K step 2.76 / 2.74 ms against 2.96 / 2.39 before, two alternating process pairs: no gain
 * beyond this host's noise, not kept.
 *
 * <p>{@code javac --add-modules jdk.incubator.vector -d /tmp/s ScatteredBlockReads.java &&
 * java --add-modules jdk.incubator.vector -Xmx2g -cp /tmp/s ScatteredBlockReads}
 */
public class ScatteredBlockReads {
    static final VectorSpecies<Short> HS = ShortVector.SPECIES_256;
    static final VectorSpecies<Integer> IS = IntVector.SPECIES_512;
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_512;
    static final int BLOCK = 8192; // shorts
    static final int THREE = 3;

    static FloatVector w(short[] a, int i) {
        IntVector bits = (IntVector) ShortVector.fromArray(HS, a, i).convertShape(VectorOperators.S2I, IS, 0);
        return bits.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
    }

    static float one(short[] a, int off, FloatVector q) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0;
        for (int i = 0; i < BLOCK; i += 16) {
            FloatVector x = w(a, off + i);
            a0 = x.fma(q, a0); a1 = x.fma(a0, a1); a2 = x.fma(q, a2);
        }
        return a0.add(a1).add(a2).reduceLanes(VectorOperators.ADD);
    }

    static float two(short[] a, int offA, int offB, FloatVector q) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
        for (int i = 0; i < BLOCK; i += 16) {
            FloatVector x = w(a, offA + i), y = w(a, offB + i);
            a0 = x.fma(q, a0); a1 = x.fma(a0, a1); a2 = x.fma(q, a2);
            b0 = y.fma(q, b0); b1 = y.fma(b0, b1); b2 = y.fma(q, b2);
        }
        return a0.add(a1).add(a2).add(b0).add(b1).add(b2).reduceLanes(VectorOperators.ADD);
    }

    static float halves(short[] a, int off, FloatVector q) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
        int h = BLOCK / 2;
        for (int i = 0; i < h; i += 16) {
            FloatVector x = w(a, off + i), y = w(a, off + h + i);
            a0 = x.fma(q, a0); a1 = x.fma(a0, a1); a2 = x.fma(q, a2);
            b0 = y.fma(q, b0); b1 = y.fma(b0, b1); b2 = y.fma(q, b2);
        }
        return a0.add(a1).add(a2).add(b0).add(b1).add(b2).reduceLanes(VectorOperators.ADD);
    }

    static float quarters(short[] a, int off, FloatVector q) {
        FloatVector a0 = FloatVector.zero(FS), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
        int h = BLOCK / 4;
        for (int i = 0; i < h; i += 16) {
            FloatVector x = w(a, off + i), y = w(a, off + h + i), z = w(a, off + 2 * h + i), u = w(a, off + 3 * h + i);
            a0 = x.fma(q, a0); a1 = x.fma(a0, a1);
            b0 = y.fma(q, b0); b1 = y.fma(b0, b1);
            c0 = z.fma(q, c0); c1 = z.fma(c0, c1);
            d0 = u.fma(q, d0); d1 = u.fma(d0, d1);
        }
        return a0.add(a1).add(b0).add(b1).add(c0).add(c1).add(d0).add(d1).reduceLanes(VectorOperators.ADD);
    }

    static float quads(short[] a, int o0, int o1, int o2, int o3, FloatVector q) {
        FloatVector a0 = FloatVector.zero(FS), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
        for (int i = 0; i < BLOCK; i += 16) {
            FloatVector x = w(a, o0 + i), y = w(a, o1 + i), z = w(a, o2 + i), u = w(a, o3 + i);
            a0 = x.fma(q, a0); a1 = x.fma(a0, a1);
            b0 = y.fma(q, b0); b1 = y.fma(b0, b1);
            c0 = z.fma(q, c0); c1 = z.fma(c0, c1);
            d0 = u.fma(q, d0); d1 = u.fma(d0, d1);
        }
        return a0.add(a1).add(b0).add(b1).add(c0).add(c1).add(d0).add(d1).reduceLanes(VectorOperators.ADD);
    }

    static int touched;
    static float inlineTouch(short[] a, int off, int nextOff, FloatVector q) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0;
        int t = 0;
        for (int i = 0; i < BLOCK; i += 16) {
            FloatVector x = w(a, off + i);
            if ((i & 31) == 0) t += a[nextOff + i];
            a0 = x.fma(q, a0); a1 = x.fma(a0, a1); a2 = x.fma(q, a2);
        }
        touched += t;
        return a0.add(a1).add(a2).reduceLanes(VectorOperators.ADD);
    }

    static float touchThenRead(short[] a, int off, int nextOff, FloatVector q) {
        int t = 0;
        for (int i = 0; i < BLOCK; i += 32) t += a[nextOff + i];
        return one(a, off, q) + t;
    }

    public static void main(String[] args) {
        int blocks = 12000; // ~196 MB
        short[] a = new short[blocks * BLOCK];
        Random r = new Random(1);
        for (int i = 0; i < a.length; i++) a[i] = (short) (0x3C00 + r.nextInt(256));
        FloatVector q = FloatVector.broadcast(FS, 0.001f);
        int reads = 600;
        int[] perm = new int[blocks];
        for (int i = 0; i < blocks; i++) perm[i] = i;
        float sink = 0;
        for (int round = 0; round < 12; round++) {
            // random blocks
            int start = r.nextInt(blocks - reads);
            long t0 = System.nanoTime();
            for (int k = 0; k < reads; k++) sink += one(a, (int) ((long) (start + k) * BLOCK), q);
            long t1 = System.nanoTime();
            int[] pick = new int[reads];
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t2 = System.nanoTime();
            for (int k = 0; k < reads; k++) sink += one(a, pick[k] * BLOCK, q);
            long t3 = System.nanoTime();
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t4 = System.nanoTime();
            for (int k = 0; k < reads; k += 2) sink += two(a, pick[k] * BLOCK, pick[k + 1] * BLOCK, q);
            long t5 = System.nanoTime();
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t6 = System.nanoTime();
            for (int k = 0; k < reads; k++) sink += touchThenRead(a, pick[k] * BLOCK, pick[Math.min(k + 1, reads - 1)] * BLOCK, q);
            long t7 = System.nanoTime();
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t8 = System.nanoTime();
            for (int k = 0; k < reads; k++) sink += halves(a, pick[k] * BLOCK, q);
            long t9 = System.nanoTime();
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t10 = System.nanoTime();
            for (int k = 0; k < reads; k++) sink += quarters(a, pick[k] * BLOCK, q);
            long t11 = System.nanoTime();
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t12 = System.nanoTime();
            for (int k = 0; k < reads; k++) sink += inlineTouch(a, pick[k] * BLOCK, pick[Math.min(k + 1, reads - 1)] * BLOCK, q);
            long t13 = System.nanoTime();
            for (int k = 0; k < reads; k++) pick[k] = r.nextInt(blocks);
            long t14 = System.nanoTime();
            for (int k = 0; k < reads; k += 4) sink += quads(a, pick[k] * BLOCK, pick[k + 1] * BLOCK, pick[k + 2] * BLOCK, pick[k + 3] * BLOCK, q);
            long t15 = System.nanoTime();
            System.out.printf("quads %.1f  ", (double) reads * BLOCK * 2 / (t15 - t14));
            double bytes = (double) reads * BLOCK * 2;
            System.out.printf("seq %.1f GB/s  random %.1f  pairs %.1f  touch-next %.1f  halves %.1f  quarters %.1f  inline-touch %.1f%n", bytes / (t1 - t0), bytes / (t3 - t2), bytes / (t5 - t4), bytes / (t7 - t6), bytes / (t9 - t8), bytes / (t11 - t10), bytes / (t13 - t12));
        }
        System.out.println(sink);
    }
}
