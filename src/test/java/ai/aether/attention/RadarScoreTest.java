package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Radar scores and threshold selection against the SPEC formulas evaluated in float64 from the metadata tensors. */
class RadarScoreTest {

    private static final int BATCH = 1, HEADS = 2, GROUP = 3, LENGTH = 700, DIM = 32, BLOCK = 64;
    private static final int BLOCKS = (LENGTH + BLOCK - 1) / BLOCK;

    private final Random random = new Random(9);
    private final Tensor keys = Tensor.of(Reference.gaussian(random, BATCH * HEADS * LENGTH * DIM, 1.0), BATCH, HEADS, LENGTH, DIM);
    private final Tensor query = Tensor.of(Reference.gaussian(random, BATCH * HEADS * GROUP * DIM, 1.0), BATCH, HEADS * GROUP, DIM);
    private final AetherMetadata meta = AetherKernels.precomputeMetadata(keys, BLOCK, true, true);

    private double expectedScore(RadarScore score, AetherConfig config, int head, int block) {
        int kv = head / GROUP, qOff = head * DIM, mOff = (kv * BLOCKS + block) * DIM, sOff = kv * BLOCKS + block;
        float[] q = query.data();
        double qNorm = 0, qMu = 0, center = 0, reach = 0;
        for (int d = 0; d < DIM; d++) {
            qNorm += q[qOff + d] * (double) q[qOff + d];
            qMu += q[qOff + d] * (double) meta.means().data()[mOff + d];
            double lo = meta.boxMin().data()[mOff + d], hi = meta.boxMax().data()[mOff + d];
            center += q[qOff + d] * (lo + hi) / 2;
            reach += Math.abs(q[qOff + d]) * (hi - lo) / 2;
        }
        qNorm = Math.sqrt(qNorm);
        double scale = 1 / Math.sqrt(DIM);
        double deviation = qNorm * meta.radii().data()[sOff];
        boolean variance = config.useVariance() || score == RadarScore.VARIANCE;
        boolean concentration = config.useConcentration() || score == RadarScore.CONCENTRATION;
        if (variance) deviation *= 1 + Math.sqrt(meta.variances().orElseThrow().data()[sOff]);
        if (concentration) deviation *= 0.3 + 0.7 * meta.concentrations().orElseThrow().data()[sOff];
        double s = switch (score) {
            case BASIC, VARIANCE, CONCENTRATION, CAUSAL -> (qMu + deviation) * scale;
            case QUEST -> (center + reach) * scale;
            case SHRUNK_BOX -> (center + config.shrinkFactor() * reach) * scale;
            case QUANTIZED_BOX -> quantizedBox(config.shrinkFactor(), head, block) * scale;
            case KEY_SKETCH -> (quantizedBox(0, head, block) + sketchMax(head, block)) * scale;
            case ORACLE -> logMass(head, block);
            case CERTIFIED, QUANTIZED_BOUND -> throw new IllegalArgumentException("tested as bounds in SelectionPropertiesTest and QuantizedBoxTest");
        };
        if (score == RadarScore.CAUSAL) s += Math.abs(s) * config.recencyBonus() * Math.pow(config.recencyDecay(), BLOCKS - 1 - block);
        return s;
    }

    /** q.c + beta sum |q| h of the box decoded from the stored 8-bit codes (offset + step * code). */
    private double quantizedBox(double beta, int head, int block) {
        BlockMetadataStore store = meta.pool.metadata();
        int id = meta.sequences[0].blockId(0, head / GROUP, block);
        double off = store.quantizedOffset(id), step = store.quantizedStep(id), s = 0;
        for (int d = 0; d < DIM; d++) {
            double lo = off + step * store.quantizedLowCode(id, d), hi = off + step * store.quantizedHighCode(id, d);
            double q = query.data()[head * DIM + d];
            s += q * (lo + hi) / 2 + beta * Math.abs(q) * (hi - lo) / 2;
        }
        return s;
    }

    /** log sum_t exp(q.k_t / sqrt(D)) over the block's keys, from the key tensor. */
    private double logMass(int head, int block) {
        int kv = head / GROUP;
        double[] logits = new double[BLOCK];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        int tokens = Math.min(BLOCK, LENGTH - block * BLOCK);
        for (int t = 0; t < tokens; t++) {
            double dot = 0;
            for (int d = 0; d < DIM; d++) dot += (double) query.data()[head * DIM + d] * keys.data()[(kv * LENGTH + block * BLOCK + t) * DIM + d];
            logits[t] = dot / Math.sqrt(DIM);
            max = Math.max(max, logits[t]);
        }
        for (int t = 0; t < tokens; t++) sum += Math.exp(logits[t] - max);
        return max + Math.log(sum);
    }

    /** max over the block's tokens of sum_j q[ch_j] * (decoded sketch offset of token t in slot j). */
    private double sketchMax(int head, int block) {
        BlockMetadataStore store = meta.pool.metadata();
        int id = meta.sequences[0].blockId(0, head / GROUP, block);
        double best = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < store.tokenCount(id); t++) {
            double v = 0;
            for (int j = 0; j < store.sketchChannels(); j++) v += query.data()[head * DIM + store.sketchChannel(id, j)] * (double) store.sketchDeviation(id, j, t);
            best = Math.max(best, v);
        }
        return best;
    }

    @ParameterizedTest
    @EnumSource(value = RadarScore.class, names = {"CERTIFIED", "QUANTIZED_BOUND"}, mode = EnumSource.Mode.EXCLUDE)
    void scoresFollowTheFormulas(RadarScore score) {
        for (boolean flags : new boolean[] {false, true}) {
            AetherConfig config = AetherConfig.builder().blockSize(BLOCK).radarScore(score).useVariance(flags).useConcentration(flags)
                    .recencyBonus(0.3).recencyDecay(0.8).shrinkFactor(0.25).minSeqLength(0).build();
            Tensor scores = AetherKernels.runAetherSparse(query, meta, config).scores();
            for (int h = 0; h < HEADS * GROUP; h++) {
                for (int i = 0; i < BLOCKS; i++) {
                    double expected = expectedScore(score, config, h, i);
                    assertEquals(expected, scores.data()[h * BLOCKS + i], 1e-4 * (1 + Math.abs(expected)), score + " head " + h + " block " + i);
                }
            }
        }
    }

    @Test
    void causalBonusFavoursRecentBlocks() {
        AetherConfig basic = AetherConfig.builder().blockSize(BLOCK).radarScore(RadarScore.BASIC).minSeqLength(0).build();
        AetherConfig causal = basic.toBuilder().radarScore(RadarScore.CAUSAL).recencyBonus(0.5).build();
        float[] b = AetherKernels.runAetherSparse(query, meta, basic).scores().data();
        float[] c = AetherKernels.runAetherSparse(query, meta, causal).scores().data();
        for (int i = 1; i < BLOCKS; i++) {
            double older = (c[i - 1] - b[i - 1]) / Math.abs(b[i - 1]), newer = (c[i] - b[i]) / Math.abs(b[i]);
            assertTrue(newer > older, "relative bonus must grow towards the newest block: " + older + " then " + newer);
        }
    }

    @Test
    void thresholdSelectionMatchesItsDefinition() {
        for (ThresholdMode mode : ThresholdMode.values()) {
            double threshold = mode == ThresholdMode.MASS_SHARE ? 0.05 : 0.4;
            AetherConfig config = AetherConfig.builder().blockSize(BLOCK).selection(SelectionMode.THRESHOLD).thresholdMode(mode)
                    .threshold(threshold).sinkBlocks(0).localWindow(0).minSeqLength(0).build();
            SparseSelection sel = AetherKernels.runAetherSparse(query, meta, config);
            float[] s = sel.scores().data();
            for (int kv = 0; kv < HEADS; kv++) {
                for (int i = 0; i < BLOCKS - 1; i++) {
                    boolean expected = false;
                    for (int j = 0; j < GROUP; j++) {
                        int row = (kv * GROUP + j) * BLOCKS;
                        if (mode == ThresholdMode.ABSOLUTE) {
                            expected |= s[row + i] > threshold;
                        } else {
                            double max = Double.NEGATIVE_INFINITY, z = 0;
                            for (int k = 0; k < BLOCKS; k++) max = Math.max(max, s[row + k]);
                            for (int k = 0; k < BLOCKS; k++) z += tokens(k) * Math.exp(s[row + k] - max);
                            expected |= tokens(i) * Math.exp(s[row + i] - max) / z >= threshold;
                        }
                    }
                    assertEquals(expected, sel.mask().kept(0, kv, i), mode + " kv " + kv + " block " + i);
                }
            }
        }
    }

    @Test
    void massShareThresholdIsScaleFree() {
        AetherConfig config = AetherConfig.builder().blockSize(BLOCK).selection(SelectionMode.THRESHOLD).threshold(0.02)
                .sinkBlocks(0).localWindow(0).minSeqLength(0).radarScore(RadarScore.QUEST).build();
        Tensor shifted = Tensor.of(keys.data().clone(), keys.shape());
        // Adding the same vector u to every key adds q.u to every logit of a head: softmax is unchanged.
        for (int t = 0; t < HEADS * LENGTH; t++) shifted.data()[t * DIM] += 10.0f;
        Tensor q = Tensor.of(query.data().clone(), query.shape());
        BlockMask before = AetherKernels.runAetherSparse(q, meta, config).mask();
        BlockMask after = AetherKernels.runAetherSparse(q, AetherKernels.precomputeMetadata(shifted, BLOCK, false, false), config).mask();
        assertEquals(before, after);
        float[] scores = AetherKernels.runAetherSparse(q, meta, config).scores().data();
        float[] groupMax = new float[BLOCKS];  // KV head 0: max over its query heads
        java.util.Arrays.fill(groupMax, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < GROUP; j++) for (int i = 0; i < BLOCKS; i++) groupMax[i] = Math.max(groupMax[i], scores[j * BLOCKS + i]);
        java.util.Arrays.sort(groupMax);
        AetherConfig absolute = config.toBuilder().thresholdMode(ThresholdMode.ABSOLUTE).threshold(groupMax[BLOCKS / 2]).build();
        BlockMask absoluteBefore = AetherKernels.runAetherSparse(q, meta, absolute).mask();
        BlockMask absoluteAfter = AetherKernels.runAetherSparse(q, AetherKernels.precomputeMetadata(shifted, BLOCK, false, false), absolute).mask();
        assertTrue(!absoluteBefore.equals(absoluteAfter), "the absolute mode is expected to depend on the logit offset");
    }

    private static int tokens(int block) {
        return Math.min(BLOCK, LENGTH - block * BLOCK);
    }

    @Test
    void metadataFlagsControlWhatIsReported() {
        AetherMetadata bare = AetherKernels.precomputeMetadata(keys, BLOCK, KvDtype.FP32, false, false);
        assertTrue(bare.variances().isEmpty() && bare.concentrations().isEmpty());
        assertEquals(java.util.List.of(BATCH, HEADS, BLOCKS, DIM), java.util.Arrays.stream(meta.means().shape()).boxed().toList());
        assertEquals(java.util.List.of(BATCH, HEADS, BLOCKS), java.util.Arrays.stream(meta.radii().shape()).boxed().toList());
    }
}
