package ai.aether.bench;

import ai.aether.kernels.Parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Synthetic KV caches with the structure real ones have, for benchmarking at shapes (Llama-7B,
 * 16K-32K tokens) that no model at hand produces. The structure is fixed here and documented in
 * {@code docs/benchmarks.md}. Its weights were set once, looking only at attention statistics
 * (share of mass on the sinks and on the newest blocks, blocks needed for 90% of the mass)
 * against a real SmolLM2 dump, never at any selection method's results. Per KV head (each with
 * its own random stream; "semantic" vectors live on the RoPE pairs whose period is at least
 * {@value #SEMANTIC_MIN_PERIOD} tokens, where models keep content rather than position):
 *
 * <ol>
 *   <li><b>Topic path (local clustering).</b> A semantic unit "topic" direction {@code u_t} drifts
 *       slowly: {@code u_t = normalize(u_{t-1} + 0.05 g)}, {@code g} a random semantic unit vector;
 *       with probability 1/256 per token a paragraph break mixes in a fresh one,
 *       {@code u_t = normalize(0.6 u_{t-1} + 0.8 g')}.</li>
 *   <li><b>Planted spans.</b> {@value #SPANS_PER_KV_HEAD} spans of 16-96 tokens (uniform), each at a
 *       uniform position between the sinks and {@code S - S/8}, each with its own semantic
 *       direction used instead of {@code u_t} inside the span.</li>
 *   <li><b>Keys before RoPE.</b> {@code k_t = n_t (a dir_t + sqrt(1 - a^2) e_t) + bias + p}, with
 *       {@code dir_t} the topic (or span direction), alignment a = 0.8 (0.95 inside spans),
 *       {@code e_t} a random unit vector over all channels, the norm
 *       {@code n_t = sqrt(D) exp(0.15 z)}, {@code z ~ N(0,1)}.</li>
 *   <li><b>Attention sinks.</b> The first {@value #SINK_TOKENS} tokens use a per-head sink direction as
 *       {@code dir_t} and {@value #SINK_NORM} times the norm.</li>
 *   <li><b>Large-magnitude channels.</b> {@value #BIG_PAIRS} random RoPE channel pairs carry a constant
 *       bias of norm {@value #BIG_PAIR_NORM} per pair (typical channels have magnitude ~1).</li>
 *   <li><b>Positional component.</b> A constant vector {@code p} of norm {@value #POSITIONAL_NORM} sqrt(D)
 *       spread over the pairs with periods of 8 to 2048 tokens; after RoPE its dot product with
 *       the query's rotated copy peaks at the newest tokens and decays with distance (the way
 *       RoPE models build local attention).</li>
 *   <li><b>RoPE</b> with the given theta, Llama/HF "rotate half" layout: channel {@code i} and
 *       {@code i + D/2} rotate by angle {@code t * theta^(-2i/D)}.</li>
 *   <li><b>Values.</b> {@code v_t = 0.6 sqrt(D) P dir_t + 0.8 z_t} (P a fixed random signed
 *       permutation, so values cluster where keys do; z_t standard normal), scaled by 0.1 for sink
 *       tokens (real sinks carry small values).</li>
 * </ol>
 *
 * <p>Queries (decode position S), per query head of the group, are sums of unit directions in
 * the rotated frame with weights in logit units (weight w adds about {@code w * a} to the
 * scaled logit of a key of typical norm and alignment a that points the same way):
 * <ul>
 *   <li>towards the mean rotated sink key, weight {@code (ln(S/4) + U(0, 3)) / }{@value #SINK_NORM};</li>
 *   <li>towards 2 of the group's spans (chosen per head): the rotated span direction at the span's
 *       centre, weight {@code (ln(S/len) + U(1, 3)) / 0.95};</li>
 *   <li>towards the rotated newest topic {@code R(S-1) u_{S-1}}, weight {@code U(0.5, 2) / 0.8};</li>
 *   <li>the rotated positional vector {@code R(S) p}, scaled so the newest key gains
 *       U({@value #POSITIONAL_LOGIT_MIN}, {@value #POSITIONAL_LOGIT_MAX}) in logit;</li>
 *   <li>a component of norm 2 in each large-magnitude pair (a slow positional pattern);</li>
 *   <li>N(0, {@value #QUERY_NOISE}^2) noise per channel.</li>
 * </ul>
 */
public final class SyntheticKv implements KvSource {

    public static final int SINK_TOKENS = 4;
    public static final int SPANS_PER_KV_HEAD = 4;
    public static final int SPANS_PER_QUERY_HEAD = 2;
    public static final int BIG_PAIRS = 2;
    public static final double BIG_PAIR_NORM = 4.0;
    public static final double POSITIONAL_NORM = 0.5;
    public static final double SINK_NORM = 2.5;
    public static final double SPAN_ALIGNMENT = 0.95;
    public static final double SEMANTIC_MIN_PERIOD = 256;
    public static final double QUERY_NOISE = 0.5;
    public static final double POSITIONAL_LOGIT_MIN = 4;
    public static final double POSITIONAL_LOGIT_MAX = 7;

    private final int kvHeads;
    private final int queryHeads;
    private final int headDim;
    private final double ropeTheta;
    private final long seed;
    private final int count;

    /**
     * @param count      snapshots (batch entries) this source offers; each has its own seed
     * @param ropeTheta  RoPE base, e.g. 10000 (Llama 2) or 500000 (Llama 3)
     */
    public SyntheticKv(int kvHeads, int queryHeads, int headDim, double ropeTheta, long seed, int count) {
        if (kvHeads < 1) throw new IllegalArgumentException("kv heads must be >= 1, got " + kvHeads);
        if (queryHeads < 1 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("heads must be a positive multiple of kv heads (" + kvHeads + "), got " + queryHeads);
        }
        if (headDim < 4 || headDim % 2 != 0) throw new IllegalArgumentException("head dim must be even and >= 4 (RoPE pairs), got " + headDim);
        if (!(ropeTheta > 1)) throw new IllegalArgumentException("rope theta must be > 1, got " + ropeTheta);
        if (count < 1) throw new IllegalArgumentException("count must be >= 1, got " + count);
        this.kvHeads = kvHeads;
        this.queryHeads = queryHeads;
        this.headDim = headDim;
        this.ropeTheta = ropeTheta;
        this.seed = seed;
        this.count = count;
    }

    @Override
    public String describe() {
        return String.format("synthetic KV (sinks, %d big channel pairs, RoPE theta %.0f, drifting topics, %d planted spans/KV head), seed %d",
                BIG_PAIRS, ropeTheta, SPANS_PER_KV_HEAD, seed);
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public int maxTokens() {
        return Integer.MAX_VALUE;
    }

    @Override
    public KvSnapshot load(int index, int tokens) {
        return generate(index, tokens, true).snapshot();
    }

    /** A planted span of one KV head: tokens {@code [start, start + length)}. */
    public record Span(int kvHead, int start, int length) {}

    /**
     * A generated snapshot with what was planted in it.
     *
     * @param spans      planted spans, per KV head
     * @param spansOfQueryHead {@code [queryHeads][SPANS_PER_QUERY_HEAD]} indices into {@code spans}
     * @param bigPairs   {@code [kvHeads][BIG_PAIRS]} RoPE pair index (channels i and i + D/2)
     */
    public record Generated(KvSnapshot snapshot, List<Span> spans, int[][] spansOfQueryHead, int[][] bigPairs) {}

    /** Generates snapshot {@code index}; {@code applyRope = false} leaves keys unrotated (for tests). */
    public Generated generate(int index, int tokens, boolean applyRope) {
        if (tokens < 1) throw new IllegalArgumentException("seq len must be >= 1, got " + tokens);
        if ((long) kvHeads * tokens * headDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kv heads x seq len x head dim = " + (long) kvHeads * tokens * headDim + " exceeds 2^31-1 floats");
        }
        float[] keys = new float[kvHeads * tokens * headDim];     // [kvHeads][tokens][headDim]
        float[] values = new float[kvHeads * tokens * headDim];   // [kvHeads][tokens][headDim]
        float[] queries = new float[queryHeads * headDim];        // [queryHeads][headDim]
        int group = queryHeads / kvHeads;
        Span[][] spans = new Span[kvHeads][];
        int[][] spansOfQueryHead = new int[queryHeads][];
        int[][] bigPairs = new int[kvHeads][];
        Parallel.forEach(kvHeads, g -> {
            SplittableRandom random = new SplittableRandom(mix(seed, index, g));
            HeadGenerator head = new HeadGenerator(random, g, tokens, applyRope);
            head.generateKeysAndValues(keys, values);
            spans[g] = head.spans.toArray(Span[]::new);
            bigPairs[g] = head.bigPairs;
            for (int j = 0; j < group; j++) {
                int qh = g * group + j;
                spansOfQueryHead[qh] = head.generateQuery(queries, qh);
            }
        });
        List<Span> allSpans = new ArrayList<>();
        int[] firstSpan = new int[kvHeads];
        for (int g = 0; g < kvHeads; g++) {
            firstSpan[g] = allSpans.size();
            allSpans.addAll(List.of(spans[g]));
        }
        for (int qh = 0; qh < queryHeads; qh++) {
            for (int i = 0; i < spansOfQueryHead[qh].length; i++) spansOfQueryHead[qh][i] += firstSpan[qh / group];
        }
        String label = "synthetic seed " + seed + " #" + index;
        return new Generated(new KvSnapshot(label, kvHeads, queryHeads, tokens, headDim, keys, values, queries),
                List.copyOf(allSpans), spansOfQueryHead, bigPairs);
    }

    private static long mix(long seed, int index, int head) {
        long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + head * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Everything of one KV head and its query heads. */
    private final class HeadGenerator {
        private final SplittableRandom random;
        private final int kvHead;
        private final int tokens;
        private final boolean applyRope;
        private final int half = headDim / 2;
        private final double[] frequency;          // [headDim/2] RoPE angle per token of pair i
        final List<Span> spans = new ArrayList<>();
        private final double[][] spanTopic;        // [spans][headDim]
        final int[] bigPairs;
        private final double[] bias;               // [headDim] pre-RoPE bias on the big pairs
        private final double[] positional;         // [headDim] pre-RoPE component shared by every key (local attention)
        private final double[] sinkDirection;      // [headDim]
        private final double[] rotatedSinkSum;     // [headDim] sum of the rotated sink keys
        private double[] lastTopic;                // [headDim] u_{S-1}

        HeadGenerator(SplittableRandom random, int kvHead, int tokens, boolean applyRope) {
            this.random = random;
            this.kvHead = kvHead;
            this.tokens = tokens;
            this.applyRope = applyRope;
            frequency = new double[half];
            for (int i = 0; i < half; i++) frequency[i] = Math.pow(ropeTheta, -2.0 * i / headDim);
            bigPairs = random.ints(0, half).distinct().limit(Math.min(BIG_PAIRS, half)).toArray();
            bias = new double[headDim];
            for (int pair : bigPairs) {
                double phase = random.nextDouble(2 * Math.PI);
                bias[pair] = BIG_PAIR_NORM * Math.cos(phase);
                bias[pair + half] = BIG_PAIR_NORM * Math.sin(phase);
            }
            positional = new double[headDim];
            int positionalPairs = 0;
            for (int i = 0; i < half; i++) if (isPositionalPair(i)) positionalPairs++;
            double pairNorm = POSITIONAL_NORM * Math.sqrt(headDim) / Math.sqrt(Math.max(positionalPairs, 1));
            for (int i = 0; i < half; i++) {
                if (!isPositionalPair(i)) continue;
                double phase = random.nextDouble(2 * Math.PI);
                positional[i] = pairNorm * Math.cos(phase);
                positional[i + half] = pairNorm * Math.sin(phase);
            }
            sinkDirection = unitGaussian();
            rotatedSinkSum = new double[headDim];
            int lastStart = tokens - tokens / 8;
            for (int s = 0; s < SPANS_PER_KV_HEAD; s++) {
                int length = 16 + random.nextInt(81);
                int room = lastStart - length - SINK_TOKENS;
                if (room <= 0) break;
                spans.add(new Span(kvHead, SINK_TOKENS + random.nextInt(room), length));
            }
            spanTopic = new double[spans.size()][];
            for (int s = 0; s < spans.size(); s++) spanTopic[s] = semanticUnit();
        }

        /** Pairs whose RoPE period is between 8 and 2048 tokens (and that are not large-magnitude pairs). */
        private boolean isPositionalPair(int i) {
            for (int big : bigPairs) if (big == i) return false;
            return frequency[i] <= 1.0 / 8 && frequency[i] >= 1.0 / 2048;
        }

        void generateKeysAndValues(float[] keys, float[] values) {
            // P, the signed permutation: value channel d takes topic channel valueSource[d] times valueSign[d]
            int[] valueSource = shuffledChannels();
            double[] valueSign = new double[headDim];
            for (int d = 0; d < headDim; d++) valueSign[d] = random.nextBoolean() ? 1 : -1;
            double[] topic = semanticUnit();
            double[] key = new double[headDim];
            double sqrtD = Math.sqrt(headDim);
            for (int t = 0; t < tokens; t++) {
                if (t > 0) driftTopic(topic);
                double[] direction = t < SINK_TOKENS ? sinkDirection : topic;
                int span = spanAt(t);
                if (span >= 0) direction = spanTopic[span];
                double norm = (t < SINK_TOKENS ? SINK_NORM : 1) * sqrtD * Math.exp(0.15 * random.nextGaussian());
                double[] noise = unitGaussian();
                double align = span >= 0 ? SPAN_ALIGNMENT : 0.8, spread = Math.sqrt(1 - align * align);
                for (int d = 0; d < headDim; d++) key[d] = norm * (align * direction[d] + spread * noise[d]) + bias[d] + positional[d];
                if (applyRope) rotate(key, t);
                int offset = (kvHead * tokens + t) * headDim;
                for (int d = 0; d < headDim; d++) keys[offset + d] = (float) key[d];
                if (t < SINK_TOKENS) for (int d = 0; d < headDim; d++) rotatedSinkSum[d] += key[d];
                double valueScale = t < SINK_TOKENS ? 0.1 : 1.0;
                for (int d = 0; d < headDim; d++) {
                    double mapped = valueSign[d] * direction[valueSource[d]];
                    values[offset + d] = (float) (valueScale * (0.6 * sqrtD * mapped + 0.8 * random.nextGaussian()));
                }
            }
            lastTopic = topic.clone();
        }

        private int[] shuffledChannels() {
            int[] order = new int[headDim];
            for (int d = 0; d < headDim; d++) order[d] = d;
            for (int d = headDim - 1; d > 0; d--) {
                int j = random.nextInt(d + 1);
                int swap = order[d]; order[d] = order[j]; order[j] = swap;
            }
            return order;
        }

        private int spanAt(int t) {
            for (int s = 0; s < spans.size(); s++) {
                Span span = spans.get(s);
                if (t >= span.start() && t < span.start() + span.length()) return s;
            }
            return -1;
        }

        private void driftTopic(double[] topic) {
            double[] step = semanticUnit();
            boolean paragraphBreak = random.nextInt(256) == 0;
            double keep = paragraphBreak ? 0.6 : 1.0, add = paragraphBreak ? 0.8 : 0.05;
            for (int d = 0; d < headDim; d++) topic[d] = keep * topic[d] + add * step[d];
            normalize(topic);
        }

        /** Fills query head {@code qh}; returns the indices (within this KV head) of its spans. */
        int[] generateQuery(float[] queries, int qh) {
            double[] q = new double[headDim];
            double logS = Math.log(tokens);
            addDirection(q, normalize(rotatedSinkSum.clone()), (logS - Math.log(SINK_TOKENS) + random.nextDouble(0, 3)) / SINK_NORM);
            int[] chosen = random.ints(0, Math.max(1, spans.size())).distinct()
                    .limit(Math.min(SPANS_PER_QUERY_HEAD, spans.size())).toArray();
            for (int s : chosen) {
                Span span = spans.get(s);
                double[] target = spanTopic[s].clone();
                if (applyRope) rotate(target, span.start() + span.length() / 2);
                addDirection(q, target, (logS - Math.log(span.length()) + random.nextDouble(1, 3)) / SPAN_ALIGNMENT);
            }
            double[] recent = lastTopic.clone();
            if (applyRope) rotate(recent, tokens - 1);
            addDirection(q, recent, random.nextDouble(0.5, 2) / 0.8);
            // the shared positional component, rotated to the decode position: logits peak at the newest keys
            double positionalSquared = 0;
            for (double x : positional) positionalSquared += x * x;
            if (positionalSquared > 0) {
                double[] rotated = positional.clone();
                if (applyRope) rotate(rotated, tokens);
                double weight = random.nextDouble(POSITIONAL_LOGIT_MIN, POSITIONAL_LOGIT_MAX) * Math.sqrt(headDim) / positionalSquared;
                for (int d = 0; d < headDim; d++) q[d] += weight * rotated[d];
            }
            for (int pair : bigPairs) {
                double phase = random.nextDouble(2 * Math.PI);
                q[pair] += 2 * Math.cos(phase);
                q[pair + half] += 2 * Math.sin(phase);
            }
            for (int d = 0; d < headDim; d++) queries[qh * headDim + d] = (float) (q[d] + QUERY_NOISE * random.nextGaussian());
            return chosen;
        }

        private void addDirection(double[] q, double[] unit, double weight) {
            for (int d = 0; d < headDim; d++) q[d] += weight * unit[d];
        }

        /** RoPE, rotate-half layout: (x_i, x_{i+D/2}) turned by t * theta^(-2i/D). */
        private void rotate(double[] x, int t) {
            for (int i = 0; i < half; i++) {
                double angle = t * frequency[i];
                double cos = Math.cos(angle), sin = Math.sin(angle);
                double a = x[i], b = x[i + half];
                x[i] = a * cos - b * sin;
                x[i + half] = a * sin + b * cos;
            }
        }

        /** A random unit vector on the slowly rotating pairs only (RoPE period >= SEMANTIC_MIN_PERIOD tokens). */
        private double[] semanticUnit() {
            double[] v = new double[headDim];
            for (int i = 0; i < half; i++) {
                if (2 * Math.PI / frequency[i] < SEMANTIC_MIN_PERIOD) continue;
                v[i] = random.nextGaussian();
                v[i + half] = random.nextGaussian();
            }
            return normalize(v);
        }

        private double[] unitGaussian() {
            double[] v = new double[headDim];
            for (int d = 0; d < headDim; d++) v[d] = random.nextGaussian();
            return normalize(v);
        }
    }

    private static double[] normalize(double[] v) {
        double sum = 0;
        for (double x : v) sum += x * x;
        double inv = 1 / Math.sqrt(sum);
        for (int i = 0; i < v.length; i++) v[i] *= inv;
        return v;
    }
}
