package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Scale;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of the radar and selection over random shapes (block sizes 16-128, partial last
 * blocks, GQA groups 1-8) and adversarial keys, checked against float64 maths on the stored keys.
 */
class SelectionPropertiesTest {

    enum KeyKind { GAUSSIAN, NORM_OUTLIERS, NEAR_DUPLICATES, CHANNEL_OUTLIERS }

    /** One random problem: keys/values [B][H][S][D], query [B][Hq][D]. */
    record Problem(int batch, int kvHeads, int group, int length, int dim, int blockSize, KvDtype dtype, KeyKind kind, long seed,
                   float[] keys, float[] values, float[] query) {
        int queryHeads() { return kvHeads * group; }
        int blocks() { return (length + blockSize - 1) / blockSize; }
        Tensor keyTensor() { return Tensor.of(keys, batch, kvHeads, length, dim); }
        Tensor valueTensor() { return Tensor.of(values, batch, kvHeads, length, dim); }
        Tensor queryTensor() { return Tensor.of(query, batch, queryHeads(), dim); }
        float[] storedHead(int b, int h) { return Reference.rounded(Reference.head(keys, b, h, kvHeads, length, dim), dtype, dim); }
        float[] storedValues(int b, int h) { return Reference.rounded(Reference.head(values, b, h, kvHeads, length, dim), dtype, dim); }

        @Override
        public String toString() {
            return "Problem[B=" + batch + " Hkv=" + kvHeads + " group=" + group + " S=" + length + " D=" + dim + " block=" + blockSize
                    + " " + dtype + " " + kind + " seed=" + seed + "]";
        }
    }

    static Problem build(int batch, int kvHeads, int group, int length, int dim, int blockSize, KvDtype dtype, KeyKind kind, long seed) {
        Random r = new Random(seed);
        int n = batch * kvHeads * length * dim;
        float[] keys = Reference.gaussian(r, n, 1.0);
        switch (kind) {
            case GAUSSIAN -> { }
            case NORM_OUTLIERS -> {
                for (int t = 0; t < n / dim; t++) {
                    if (r.nextInt(20) == 0) for (int d = 0; d < dim; d++) keys[t * dim + d] *= 40;
                }
            }
            case NEAR_DUPLICATES -> {
                float[] base = Reference.gaussian(r, dim, 1.0);
                for (int t = 0; t < n / dim; t++) {
                    double norm = 0.2 + 5 * r.nextDouble();
                    for (int d = 0; d < dim; d++) keys[t * dim + d] = (float) (norm * (base[d] + 1e-3 * r.nextGaussian()));
                }
            }
            case CHANNEL_OUTLIERS -> {  // RoPE-like: a few channel pairs dominate
                for (int t = 0; t < n / dim; t++) { keys[t * dim] *= 30; keys[t * dim + 1] *= 30; }
            }
        }
        float[] values = Reference.gaussian(r, n, 1.0);
        float[] query = Reference.gaussian(r, batch * kvHeads * group * dim, 1.5);
        return new Problem(batch, kvHeads, group, length, dim, blockSize, dtype, kind, seed, keys, values, query);
    }

    @Provide
    Arbitrary<Problem> problems() {
        Arbitrary<Integer> blockSize = Arbitraries.integers().between(16, 128);
        Arbitrary<Integer> blocks = Arbitraries.integers().between(1, 14);
        Arbitrary<Integer> tail = Arbitraries.integers().between(0, 127);
        return Combinators.combine(Arbitraries.integers().between(1, 2), Arbitraries.integers().between(1, 3),
                        Arbitraries.integers().between(1, 8), blockSize, blocks, tail, Arbitraries.of(8, 16, 24, 64),
                        Arbitraries.of(KvDtype.class))
                .flatAs((batch, kvHeads, group, bs, nBlocks, extra, dim, dtype) -> Combinators.combine(
                                Arbitraries.of(KeyKind.class), Arbitraries.longs())
                        .as((kind, seed) -> build(batch, kvHeads, group, Math.max(1, nBlocks * bs - extra % bs), dim, bs, dtype, kind, seed)));
    }

    private static AetherConfig.Builder configFor(Problem p) {
        return AetherConfig.builder().blockSize(p.blockSize()).kvDtype(p.dtype()).minSeqLength(0).minKeptTokens(0);
    }

    /** CERTIFIED selection bounds with QUANTIZED_BOUND when the quantised box is configured, else with CERTIFIED. */
    private static RadarScore configuredScore(boolean quantized) {
        return quantized ? RadarScore.QUANTIZED_BOX : RadarScore.SHRUNK_BOX;
    }

    @Property(tries = 200)
    void certifiedScoreNeverFallsBelowTheTrueBlockMaxLogit(@ForAll("problems") Problem p, @ForAll boolean quantized) {
        AetherMetadata meta = AetherKernels.precomputeMetadata(p.keyTensor(), p.blockSize(), p.dtype(), true, true);
        SparseSelection sel = AetherKernels.runAetherSparse(p.queryTensor(), meta,
                configFor(p).selection(SelectionMode.CERTIFIED).radarScore(configuredScore(quantized)).build());
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.queryHeads(); h++) {
                float[] keys = p.storedHead(b, h / p.group());
                for (int i = 0; i < p.blocks(); i++) {
                    double truth = Reference.blockMaxLogit(p.query(), (b * p.queryHeads() + h) * p.dim(), keys, p.length(), p.dim(), p.blockSize(), i);
                    float bound = sel.scores().data()[(b * p.queryHeads() + h) * p.blocks() + i];
                    assertTrue(bound >= truth, "block " + i + " head " + h + ": bound " + bound + " < true max logit " + truth);
                }
            }
        }
    }

    @Property(tries = 200)
    void certifiedDroppedMassStaysWithinEpsilon(@ForAll("problems") Problem p, @ForAll @DoubleRange(min = 1e-4, max = 0.3) @Scale(5) double epsilon,
                                                 @ForAll boolean perQueryHead, @ForAll boolean quantized) {
        AetherConfig config = configFor(p).selection(SelectionMode.CERTIFIED).epsilon(epsilon).radarScore(configuredScore(quantized))
                .gqaPolicy(perQueryHead ? GqaPolicy.PER_QUERY_HEAD : GqaPolicy.SHARED_MAX).build();
        AetherMetadata meta = AetherKernels.precomputeMetadata(p.keyTensor(), p.blockSize(), p.dtype(), false, false);
        SparseSelection sel = AetherKernels.runAetherSparse(p.queryTensor(), meta, config);
        BlockMask mask = sel.mask();
        Tensor sparse = AetherKernels.sparseAttention(p.queryTensor(), p.keyTensor(), p.valueTensor(), mask, p.blockSize(), p.dtype());
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.queryHeads(); h++) {
                int kvHead = h / p.group(), list = perQueryHead ? h : kvHead;
                float[] keys = p.storedHead(b, kvHead), values = p.storedValues(b, kvHead);
                double[] weights = Reference.softmax(p.query(), (b * p.queryHeads() + h) * p.dim(), keys, p.length(), p.dim());
                double dropped = 0;
                for (int t = 0; t < p.length(); t++) if (!mask.kept(b, list, t / p.blockSize())) dropped += weights[t];
                double reported = sel.certifiedDroppedMass()[b * mask.lists() + list];
                assertTrue(dropped <= epsilon + 1e-9, "dropped mass " + dropped + " > epsilon " + epsilon);
                assertTrue(dropped <= reported + 1e-9, "dropped mass " + dropped + " > reported bound " + reported);
                assertTrue(reported <= epsilon, "reported bound " + reported + " > epsilon " + epsilon);
                // SPEC 1.3: |o_sparse - o_dense| <= 2 epsilon max|v| (plus fp32 rounding).
                double[] dense = Reference.attention(p.query(), (b * p.queryHeads() + h) * p.dim(), keys, values, p.length(), p.dim(),
                        p.blockSize(), null, p.length() - 1);
                double maxNorm = 0, diff = 0;
                for (int t = 0; t < p.length(); t++) {
                    double sq = 0;
                    for (int d = 0; d < p.dim(); d++) sq += values[t * p.dim() + d] * (double) values[t * p.dim() + d];
                    maxNorm = Math.max(maxNorm, Math.sqrt(sq));
                }
                for (int d = 0; d < p.dim(); d++) {
                    double e = sparse.data()[(b * p.queryHeads() + h) * p.dim() + d] - dense[d];
                    diff += e * e;
                }
                assertTrue(Math.sqrt(diff) <= 2 * reported * maxNorm + 1e-4 * maxNorm, "output moved " + Math.sqrt(diff));
            }
        }
    }

    @Property(tries = 150)
    void sinksWindowAndNewestBlockAreAlwaysKept(@ForAll("problems") Problem p, @ForAll SelectionMode mode,
                                                 @ForAll @IntRange(max = 3) int sinks, @ForAll @IntRange(max = 5) int window,
                                                 @ForAll RadarScore score, @ForAll GroupCombine combine) {
        AetherConfig config = configFor(p).selection(mode).sinkBlocks(sinks).localWindow(window).radarScore(score).groupCombine(combine)
                .topK(0).targetSparsity(0.95).threshold(0.9).epsilon(1e-3).build();
        SparseSelection sel = AetherKernels.runAetherSparse(p.queryTensor(),
                AetherKernels.precomputeMetadata(p.keyTensor(), p.blockSize(), p.dtype(), true, true), config);
        BlockMask mask = sel.mask();
        boolean target = mode == SelectionMode.TARGET_SPARSITY;
        int keptSinks = target ? narrowedSinks(p.blocks(), 0.95, sinks) : sinks;
        int kept = target ? narrowedWindow(p.blocks(), 0.95, sinks, window) : window;
        for (int b = 0; b < p.batch(); b++) {
            for (int l = 0; l < mask.lists(); l++) {
                for (int i = 0; i < p.blocks(); i++) {
                    if (i < keptSinks || i >= p.blocks() - kept || i == p.blocks() - 1) {
                        assertTrue(mask.kept(b, l, i), "forced block " + i + " of " + p.blocks() + " dropped");
                    }
                }
            }
        }
    }

    /**
     * TARGET_SPARSITY's window: the sinks and window may take at most half the budget (rounded
     * down), the window keeping at least one block.
     */
    private static int narrowedWindow(int blocks, double target, int sinks, int window) {
        if (window <= 1) return window;
        int budget = budget(blocks, target), radarShare = (budget + 1) / 2;
        int s = narrowedSinks(blocks, target, sinks), w = window;
        while (w > 1 && s + w > budget - radarShare) w--;
        return w;
    }

    /** TARGET_SPARSITY's forced sinks: fewer (down to none) while the sinks and the newest block take more than half the budget (rounded down). */
    private static int narrowedSinks(int blocks, double target, int sinks) {
        int budget = budget(blocks, target), s = sinks;
        while (s > 0 && s + 1 > budget / 2) s--;
        return s;
    }

    private static int budget(int blocks, double target) {
        return (int) Math.ceil((1 - target) * blocks - 1e-9);
    }

    private static int forcedCount(int blocks, int sinks, int window) {
        int n = 0;
        for (int i = 0; i < blocks; i++) if (i < sinks || i >= blocks - window || i == blocks - 1) n++;
        return n;
    }

    @Property(tries = 150)
    void topKKeepsExactlyKPlusTheForcedBlocks(@ForAll("problems") Problem p, @ForAll @IntRange(max = 20) int k,
                                              @ForAll @IntRange(max = 3) int sinks, @ForAll @IntRange(max = 4) int window,
                                              @ForAll RadarScore score, @ForAll GqaPolicy policy, @ForAll GroupCombine combine) {
        AetherConfig config = configFor(p).selection(SelectionMode.TOP_K).topK(k).sinkBlocks(sinks).localWindow(window)
                .radarScore(score).gqaPolicy(policy).groupCombine(combine).build();
        BlockMask mask = AetherKernels.runAetherSparse(p.queryTensor(),
                AetherKernels.precomputeMetadata(p.keyTensor(), p.blockSize(), p.dtype(), false, false), config).mask();
        int forced = forcedCount(p.blocks(), sinks, window);
        int expected = forced + Math.min(k, p.blocks() - forced);
        for (int b = 0; b < p.batch(); b++) {
            for (int l = 0; l < mask.lists(); l++) {
                int kept = 0;
                for (int i = 0; i < p.blocks(); i++) if (mask.kept(b, l, i)) kept++;
                assertEquals(expected, kept, "list " + l);
            }
        }
    }

    @Property(tries = 150)
    void targetSparsityIsMetWithinOneBlock(@ForAll("problems") Problem p, @ForAll @DoubleRange(min = 0, max = 0.95) double target,
                                           @ForAll @IntRange(max = 2) int sinks, @ForAll @IntRange(max = 3) int window,
                                           @ForAll RadarScore score, @ForAll GroupCombine combine) {
        AetherConfig config = configFor(p).selection(SelectionMode.TARGET_SPARSITY).targetSparsity(target)
                .sinkBlocks(sinks).localWindow(window).radarScore(score).groupCombine(combine).build();
        BlockMask mask = AetherKernels.runAetherSparse(p.queryTensor(),
                AetherKernels.precomputeMetadata(p.keyTensor(), p.blockSize(), p.dtype(), false, false), config).mask();
        int blocks = p.blocks(), forced = forcedCount(blocks, narrowedSinks(blocks, target, sinks), narrowedWindow(blocks, target, sinks, window));
        for (int b = 0; b < p.batch(); b++) {
            for (int l = 0; l < mask.lists(); l++) {
                int kept = 0;
                for (int i = 0; i < blocks; i++) if (mask.kept(b, l, i)) kept++;
                if (forced <= (1 - target) * blocks) {
                    double achieved = 1 - (double) kept / blocks;
                    assertTrue(Math.abs(achieved - target) <= 1.0 / blocks + 1e-9,
                            "achieved sparsity " + achieved + " vs target " + target + " over " + blocks + " blocks");
                } else {
                    assertEquals(forced, kept, "only the forced blocks when they exceed the budget");
                }
            }
        }
    }

    @Property(tries = 40)
    void sharedSelectionUsesTheMaxOverTheGroup(@ForAll("problems") Problem p, @ForAll @IntRange(min = 1, max = 6) int k) {
        AetherConfig config = configFor(p).selection(SelectionMode.TOP_K).topK(k).sinkBlocks(0).localWindow(0)
                .radarScore(RadarScore.QUEST).groupCombine(GroupCombine.MAX).build();
        SparseSelection sel = AetherKernels.runAetherSparse(p.queryTensor(),
                AetherKernels.precomputeMetadata(p.keyTensor(), p.blockSize(), p.dtype(), false, false), config);
        int blocks = p.blocks();
        for (int b = 0; b < p.batch(); b++) {
            for (int kv = 0; kv < p.kvHeads(); kv++) {
                double minKept = Double.POSITIVE_INFINITY, maxDropped = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < blocks - 1; i++) {  // the newest block is forced
                    double groupMax = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < p.group(); j++) {
                        groupMax = Math.max(groupMax, sel.scores().data()[(b * p.queryHeads() + kv * p.group() + j) * blocks + i]);
                    }
                    if (sel.mask().kept(b, kv, i)) minKept = Math.min(minKept, groupMax); else maxDropped = Math.max(maxDropped, groupMax);
                }
                assertTrue(minKept >= maxDropped, "a dropped block outranks a kept one on the group max");
            }
        }
    }
}
