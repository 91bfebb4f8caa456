package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 8-bit quantised key box and its two scores, against float64 maths written here: the decoded box
 * {@code [off + step L_d, off + step H_d]} must contain every stored key (FP32 / FP16 / BF16 storage,
 * adversarial keys), the codes must be the tightest outward ones, QUANTIZED_BOUND must never fall below
 * the block's true largest logit, and QUANTIZED_BOX must equal {@code (q.c + beta sum |q| h) / sqrt(D)}.
 */
class QuantizedBoxTest {

    enum KeyKind { GAUSSIAN, NORM_OUTLIERS, NEAR_DUPLICATES, CHANNEL_OUTLIERS, ALL_EQUAL, TINY, HUGE, FAR_FROM_ZERO }

    /** keys [1][kvHeads][length][dim] (as given, before storage rounding), queries [1][kvHeads * group][dim]. */
    record Problem(int kvHeads, int group, int length, int dim, int blockSize, KvDtype dtype, KeyKind kind, long seed,
                   float[] keys, float[] query) {
        int blocks() { return (length + blockSize - 1) / blockSize; }
        int queryHeads() { return kvHeads * group; }
        float[] stored(int h) { return Reference.rounded(Reference.head(keys, 0, h, kvHeads, length, dim), dtype, dim); }

        @Override
        public String toString() {
            return "Problem[Hkv=" + kvHeads + " group=" + group + " S=" + length + " D=" + dim + " block=" + blockSize + " " + dtype
                    + " " + kind + " seed=" + seed + "]";
        }
    }

    static Problem build(int kvHeads, int group, int length, int dim, int blockSize, KvDtype dtype, KeyKind kind, long seed) {
        Random r = new Random(seed);
        int n = kvHeads * length * dim;
        float[] keys = Reference.gaussian(r, n, 1.0);
        switch (kind) {
            case GAUSSIAN -> { }
            case NORM_OUTLIERS -> {
                for (int t = 0; t < n / dim; t++) if (r.nextInt(10) == 0) for (int d = 0; d < dim; d++) keys[t * dim + d] *= 300;
            }
            case NEAR_DUPLICATES -> {
                float[] base = Reference.gaussian(r, dim, 1.0);
                for (int t = 0; t < n / dim; t++) {
                    for (int d = 0; d < dim; d++) keys[t * dim + d] = (float) (base[d] + 1e-4 * r.nextGaussian());
                }
            }
            case CHANNEL_OUTLIERS -> {
                for (int t = 0; t < n / dim; t++) { keys[t * dim] *= 200; keys[t * dim + dim / 2] -= 150; }
            }
            case ALL_EQUAL -> java.util.Arrays.fill(keys, (float) r.nextGaussian());
            case TINY -> { for (int i = 0; i < n; i++) keys[i] *= 1e-6f; }  // fp16 subnormals
            case HUGE -> { for (int i = 0; i < n; i++) keys[i] = (float) (keys[i] * 3e4 * (r.nextInt(8) == 0 ? 100 : 1)); }
            case FAR_FROM_ZERO -> { for (int i = 0; i < n; i++) keys[i] = 1000 + keys[i] * 0.01f; }
        }
        if (dtype == KvDtype.FP16) {  // the cache rejects keys outside the fp16 range
            for (int i = 0; i < n; i++) keys[i] = Math.clamp(keys[i], -65504f, 65504f);
        }
        float[] query = Reference.gaussian(r, kvHeads * group * dim, 1.5);
        if (r.nextBoolean()) query[0] *= 50;  // one dominant channel
        return new Problem(kvHeads, group, length, dim, blockSize, dtype, kind, seed, keys, query);
    }

    @Provide
    Arbitrary<Problem> problems() {
        return Combinators.combine(Arbitraries.integers().between(1, 2), Arbitraries.integers().between(1, 4),
                        Arbitraries.integers().between(1, 600), Arbitraries.of(8, 24, 64, 128), Arbitraries.of(16, 32, 64),
                        Arbitraries.of(KvDtype.class), Arbitraries.of(KeyKind.class), Arbitraries.longs())
                .as(QuantizedBoxTest::build);
    }

    private static AetherMetadata metadata(Problem p) {
        return AetherKernels.precomputeMetadata(Tensor.of(p.keys(), 1, p.kvHeads(), p.length(), p.dim()), p.blockSize(), p.dtype(), false, false);
    }

    @Property(tries = 300)
    void decodedBoxContainsEveryStoredKeyWithTheTightestOutwardCodes(@ForAll("problems") Problem p) {
        AetherMetadata meta = metadata(p);
        BlockMetadataStore store = meta.pool.metadata();
        int dim = p.dim();
        for (int h = 0; h < p.kvHeads(); h++) {
            float[] keys = p.stored(h);
            for (int i = 0; i < p.blocks(); i++) {
                int id = meta.sequences[0].blockId(0, h, i);
                int first = i * p.blockSize(), last = Math.min(p.length(), first + p.blockSize());
                double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, largest = 0;
                for (int t = first * dim; t < last * dim; t++) {
                    min = Math.min(min, keys[t]);
                    max = Math.max(max, keys[t]);
                    largest = Math.max(largest, Math.abs(keys[t]));
                }
                double off = store.quantizedOffset(id), step = store.quantizedStep(id);
                if (Double.isInfinite(step)) {
                    assertTrue(largest > 65504, p + " block " + i + ": unbounded record although every key fits fp16 (max |k| " + largest + ")");
                    continue;
                }
                assertTrue(off <= min && min - off <= Math.max(Math.abs(min) * 0x1p-10, 0x1p-24), "offset " + off + " vs min key " + min);
                assertTrue(max == off ? step == 1 : step <= (max - off) / 255 * (1 + 0x1p-9) + 0x1p-23,
                        "step " + step + " is wider than range/255 = " + (max - off) / 255);
                for (int d = 0; d < dim; d++) {
                    int low = store.quantizedLowCode(id, d), high = store.quantizedHighCode(id, d);
                    assertTrue(0 <= low && low <= high && high <= 255, "codes " + low + ", " + high);
                    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
                    for (int t = first; t < last; t++) {
                        lo = Math.min(lo, keys[t * dim + d]);
                        hi = Math.max(hi, keys[t * dim + d]);
                    }
                    double decodedLo = off + step * low, decodedHi = off + step * high;  // exact in float64
                    assertTrue(decodedLo <= lo && hi <= decodedHi,
                            p + " block " + i + " channel " + d + ": [" + decodedLo + ", " + decodedHi + "] misses [" + lo + ", " + hi + "]");
                    assertTrue(lo - decodedLo < step && decodedHi - hi < step, "codes not the tightest outward ones, channel " + d);
                }
            }
        }
    }

    /** Float64 {@code (q.c + beta sum_d |q_d| h_d) / sqrt(D)} from the stored codes. */
    private static double expectedScore(BlockMetadataStore store, int id, float[] q, int qOff, int dim, double beta) {
        double off = store.quantizedOffset(id), step = store.quantizedStep(id), s = 0;
        for (int d = 0; d < dim; d++) {
            double lo = off + step * store.quantizedLowCode(id, d), hi = off + step * store.quantizedHighCode(id, d);
            s += q[qOff + d] * (lo + hi) / 2 + beta * Math.abs(q[qOff + d]) * (hi - lo) / 2;
        }
        return s / Math.sqrt(dim);
    }

    /** Size of the terms of the quantised score, for tolerances: sum |q| (|off| + 384 step) / sqrt(D). */
    private static double magnitude(BlockMetadataStore store, int id, float[] q, int qOff, int dim) {
        double l1 = 0;
        for (int d = 0; d < dim; d++) l1 += Math.abs(q[qOff + d]);
        return l1 * (Math.abs(store.quantizedOffset(id)) + 384.0 * store.quantizedStep(id)) / Math.sqrt(dim);
    }

    @Property(tries = 300)
    void certifiedQuantizedBoundNeverFallsBelowTheTrueBlockMaxLogit(@ForAll("problems") Problem p) {
        AetherMetadata meta = metadata(p);
        AetherConfig config = AetherConfig.builder().blockSize(p.blockSize()).kvDtype(p.dtype()).minSeqLength(0)
                .radarScore(RadarScore.QUANTIZED_BOX).selection(SelectionMode.CERTIFIED).build();
        assertEquals(RadarScore.QUANTIZED_BOUND, config.effectiveScore());
        float[] scores = AetherKernels.runAetherSparse(Tensor.of(p.query(), 1, p.queryHeads(), p.dim()), meta, config).scores().data();
        BlockMetadataStore store = meta.pool.metadata();
        for (int qh = 0; qh < p.queryHeads(); qh++) {
            int kv = qh / p.group();
            float[] keys = p.stored(kv);
            for (int i = 0; i < p.blocks(); i++) {
                int id = meta.sequences[0].blockId(0, kv, i);
                float bound = scores[qh * p.blocks() + i];
                double truth = Reference.blockMaxLogit(p.query(), qh * p.dim(), keys, p.length(), p.dim(), p.blockSize(), i);
                assertTrue(bound >= truth, p + " head " + qh + " block " + i + ": bound " + bound + " < true max logit " + truth);
                if (Float.isInfinite(bound)) continue;
                double expected = expectedScore(store, id, p.query(), qh * p.dim(), p.dim(), 1.0);
                double tolerance = 1e-4 * magnitude(store, id, p.query(), qh * p.dim(), p.dim()) + 1e-30;
                assertEquals(expected, bound, tolerance, p + " bound of block " + i);
            }
        }
    }

    @Property(tries = 200)
    void quantizedBoxScoreIsTheShrunkBoxOfTheDecodedBox(@ForAll("problems") Problem p,
                                                        @ForAll @DoubleRange(min = 0, max = 1) double beta) {
        AetherMetadata meta = metadata(p);
        AetherConfig config = AetherConfig.builder().blockSize(p.blockSize()).kvDtype(p.dtype()).minSeqLength(0)
                .radarScore(RadarScore.QUANTIZED_BOX).shrinkFactor(beta).build();
        float[] scores = AetherKernels.runAetherSparse(Tensor.of(p.query(), 1, p.queryHeads(), p.dim()), meta, config).scores().data();
        BlockMetadataStore store = meta.pool.metadata();
        for (int qh = 0; qh < p.queryHeads(); qh++) {
            for (int i = 0; i < p.blocks(); i++) {
                int id = meta.sequences[0].blockId(0, qh / p.group(), i);
                float actual = scores[qh * p.blocks() + i];
                if (Double.isInfinite(store.quantizedStep(id))) {
                    assertEquals(Float.POSITIVE_INFINITY, actual, "unbounded blocks score +infinity");
                    continue;
                }
                double expected = expectedScore(store, id, p.query(), qh * p.dim(), p.dim(), beta);
                assertEquals(expected, actual, 1e-5 * magnitude(store, id, p.query(), qh * p.dim(), p.dim()) + 1e-30, p + " block " + i);
            }
        }
    }

    @Test
    void keysBeyondTheFp16RangeMakeTheBlockUnboundedAndAlwaysKept() {
        int dim = 16, block = 16, length = 8 * block;
        float[] keys = Reference.gaussian(new Random(3), length * dim, 1.0);  // [1][1][length][dim]
        keys[3 * block * dim + 5] = -1e6f;                                   // block 3: one key far below -65504
        float[] query = Reference.gaussian(new Random(4), dim, 1.0);
        query[5] = 10;                                                       // so block 3's large key looks hopeless
        Tensor keyTensor = Tensor.of(keys, 1, 1, length, dim);
        for (SelectionMode mode : new SelectionMode[] {SelectionMode.TOP_K, SelectionMode.CERTIFIED}) {
            AetherConfig config = AetherConfig.builder().blockSize(block).kvDtype(KvDtype.BF16).minSeqLength(0).sinkBlocks(0).localWindow(0)
                    .selection(mode).topK(1).epsilon(0.5).build();
            AetherMetadata meta = AetherKernels.precomputeMetadata(keyTensor, block, KvDtype.BF16, false, false);
            assertTrue(Float.isInfinite(meta.pool.metadata().quantizedStep(meta.sequences[0].blockId(0, 0, 3))));
            SparseSelection sel = AetherKernels.runAetherSparse(Tensor.of(query, 1, 1, dim), meta, config);
            assertTrue(sel.mask().kept(0, 0, 3), mode + ": the unbounded block must be kept");
            assertEquals(Float.POSITIVE_INFINITY, sel.scores().data()[3]);
        }
        AetherMetadata fp32 = AetherKernels.precomputeMetadata(keyTensor, block, KvDtype.FP32, false, false);
        assertFalse(Float.isInfinite(fp32.pool.metadata().quantizedStep(fp32.sequences[0].blockId(0, 0, 0))), "ordinary blocks are bounded");
    }

    @Test
    void metadataBytesAreTheRecordOnly() {
        BlockMetadataStore store = new BlockMetadataStore(64);
        assertEquals(132, store.bytesPerBlock(RadarScore.QUANTIZED_BOX, false, false), "64 low + 64 high codes + fp16 offset + fp16 step");
        assertEquals(132, store.bytesPerBlock(RadarScore.QUANTIZED_BOUND, true, true));
        assertEquals(512, store.bytesPerBlock(RadarScore.SHRUNK_BOX, false, false), "the fp32 box: 2 x 64 floats");
    }
}
