package ai.aether.bench;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** The synthetic generator has the structure its javadoc promises. */
class SyntheticKvTest {

    private static final int KV_HEADS = 2, QUERY_HEADS = 4, DIM = 128, TOKENS = 4096;
    private static final double THETA = 10_000;
    private static final SyntheticKv SOURCE = new SyntheticKv(KV_HEADS, QUERY_HEADS, DIM, THETA, 11, 2);
    private static final SyntheticKv.Generated ROTATED = SOURCE.generate(0, TOKENS, true);
    private static final SyntheticKv.Generated PLAIN = SOURCE.generate(0, TOKENS, false);

    private static double[] denseWeights(KvSnapshot s, int qh) {
        int g = qh / s.groupSize();
        double[] p = new double[s.tokens()];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int t = 0; t < s.tokens(); t++) {
            double dot = 0;
            for (int d = 0; d < DIM; d++) dot += (double) s.queries()[qh * DIM + d] * s.keys()[s.kvOffset(g, t) + d];
            p[t] = dot / Math.sqrt(DIM);
            max = Math.max(max, p[t]);
        }
        for (int t = 0; t < p.length; t++) sum += (p[t] = Math.exp(p[t] - max));
        for (int t = 0; t < p.length; t++) p[t] /= sum;
        return p;
    }

    @Test
    void sameSeedSameCacheOtherIndexOtherCache() {
        KvSnapshot again = SOURCE.generate(0, TOKENS, true).snapshot();
        assertArrayEquals(ROTATED.snapshot().keys(), again.keys());
        assertArrayEquals(ROTATED.snapshot().values(), again.values());
        assertArrayEquals(ROTATED.snapshot().queries(), again.queries());
        assertFalse(Arrays.equals(ROTATED.snapshot().keys(), SOURCE.generate(1, TOKENS, true).snapshot().keys()));
    }

    @Test
    void keysAreRotatedByRopeWithTheGivenTheta() {
        KvSnapshot r = ROTATED.snapshot(), p = PLAIN.snapshot();
        int half = DIM / 2;
        for (int t : new int[]{0, 1, 17, 1000, TOKENS - 1}) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(THETA, -2.0 * i / DIM);
                int o = p.kvOffset(1, t);
                double a = p.keys()[o + i], b = p.keys()[o + i + half];
                double expectA = a * Math.cos(angle) - b * Math.sin(angle), expectB = a * Math.sin(angle) + b * Math.cos(angle);
                double tol = 1e-5 * (Math.abs(a) + Math.abs(b) + 1);
                assertEquals(expectA, r.keys()[o + i], tol, "t=" + t + " pair " + i);
                assertEquals(expectB, r.keys()[o + i + half], tol, "t=" + t + " pair " + i);
            }
        }
    }

    /** Attention renormalised over the non-sink tokens (some heads give the sinks nearly everything). */
    private static double[] withoutSinks(double[] p) {
        double rest = 0;
        for (int t = SyntheticKv.SINK_TOKENS; t < p.length; t++) rest += p[t];
        double[] out = new double[p.length];
        for (int t = SyntheticKv.SINK_TOKENS; t < p.length; t++) out[t] = p[t] / rest;
        return out;
    }

    @Test
    void sinkTokensDrawAttentionFarAboveTheirShare() {
        KvSnapshot s = ROTATED.snapshot();
        double mean = 0;
        for (int qh = 0; qh < QUERY_HEADS; qh++) {
            double[] p = denseWeights(s, qh);
            double sink = 0;
            for (int t = 0; t < SyntheticKv.SINK_TOKENS; t++) sink += p[t];
            mean += sink / QUERY_HEADS;
        }
        // 4 of 4096 tokens would get 0.1% under uniform attention
        assertTrue(mean > 0.05, "sink mass " + mean);
    }

    @Test
    void plantedSpansHoldNonSinkMassFarAboveTheirShareAndSitFarFromTheEnd() {
        KvSnapshot s = ROTATED.snapshot();
        double densitySum = 0;
        int spans = 0, attended = 0;
        for (int qh = 0; qh < QUERY_HEADS; qh++) {
            double[] p = withoutSinks(denseWeights(s, qh));
            for (int index : ROTATED.spansOfQueryHead()[qh]) {
                SyntheticKv.Span span = ROTATED.spans().get(index);
                assertEquals(qh / s.groupSize(), span.kvHead());
                assertTrue(span.start() + span.length() <= TOKENS - TOKENS / 8, "span ends before the last eighth");
                double mass = 0;
                for (int t = span.start(); t < span.start() + span.length(); t++) mass += p[t];
                double density = mass / (span.length() / (double) TOKENS);
                if (density > 3) attended++;
                densitySum += density;
                spans++;
            }
        }
        assertEquals(QUERY_HEADS * SyntheticKv.SPANS_PER_QUERY_HEAD, spans);
        assertTrue(densitySum / spans > 5, "mean span density " + densitySum / spans);
        assertTrue(attended >= spans / 2, attended + " of " + spans + " planted spans hold over 3x their share");
    }

    @Test
    void newestTokensGetMoreNonSinkAttentionThanTheirShare() {
        KvSnapshot s = ROTATED.snapshot();
        double recent = 0;
        for (int qh = 0; qh < QUERY_HEADS; qh++) {
            double[] p = withoutSinks(denseWeights(s, qh));
            for (int t = TOKENS - 256; t < TOKENS; t++) recent += p[t] / QUERY_HEADS;
        }
        assertTrue(recent > 5 * 256.0 / TOKENS, "mean recent mass " + recent);
    }

    @Test
    void aFewChannelPairsCarryLargeMagnitudes() {
        KvSnapshot p = PLAIN.snapshot();
        int half = DIM / 2;
        for (int h = 0; h < KV_HEADS; h++) {
            double[] energy = new double[half];
            for (int t = 0; t < TOKENS; t++) {
                int o = p.kvOffset(h, t);
                for (int i = 0; i < half; i++) energy[i] += (sq(p.keys()[o + i]) + sq(p.keys()[o + i + half])) / TOKENS;
            }
            double[] sorted = energy.clone();
            Arrays.sort(sorted);
            double median = sorted[half / 2];
            for (int pair : ROTATED.bigPairs()[h]) {
                assertTrue(energy[pair] > 3 * median, "pair " + pair + " energy " + energy[pair] + " vs median " + median);
            }
        }
    }

    @Test
    void neighbouringKeysPointAlikeDistantOnesLess() {
        KvSnapshot p = PLAIN.snapshot();
        double near = 0, far = 0;
        int n = 0;
        for (int t = 100; t < TOKENS / 2; t += 7) {
            near += cosine(p, t, t + 1);
            far += cosine(p, t, t + TOKENS / 2);
            n++;
        }
        assertTrue(near / n > far / n + 0.2, "near " + near / n + " far " + far / n);
    }

    private static double cosine(KvSnapshot s, int a, int b) {
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < DIM; d++) {
            double x = s.keys()[s.kvOffset(0, a) + d], y = s.keys()[s.kvOffset(0, b) + d];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        return dot / Math.sqrt(na * nb);
    }

    private static double sq(double x) {
        return x * x;
    }

    @Test
    void rejectsShapesItCannotBuild() {
        assertThrows(IllegalArgumentException.class, () -> new SyntheticKv(3, 4, 64, THETA, 1, 1));
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> new SyntheticKv(1, 1, 63, THETA, 1, 1));
        assertTrue(odd.getMessage().contains("head dim"), odd.getMessage());
    }
}
