package ai.aether.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The event radar: scores every block of one KV head for one query vector from the block
 * metadata alone (SPEC 1.2), in logit units. See {@link RadarScore} for which scores are true
 * bounds. Blocks without metadata yet (the open block) score +infinity: they are always kept.
 */
public final class EventRadar {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private final RadarScore score;
    private final boolean useVariance;
    private final boolean useConcentration;
    private final boolean recency;
    private final double recencyBonus;
    private final double recencyDecay;
    private final float shrinkFactor;

    public EventRadar(AetherConfig config) {
        this(config, config.effectiveScore());
    }

    /** A radar computing {@code score} with the other settings of {@code config}. */
    public EventRadar(AetherConfig config, RadarScore score) {
        this.score = score;
        this.useVariance = config.useVariance() || score == RadarScore.VARIANCE;
        this.useConcentration = config.useConcentration() || score == RadarScore.CONCENTRATION;
        boolean seedFamily = score == RadarScore.BASIC || score == RadarScore.VARIANCE || score == RadarScore.CONCENTRATION;
        this.recency = score == RadarScore.CAUSAL || (config.causal() && seedFamily);
        this.recencyBonus = config.recencyBonus();
        this.recencyDecay = config.recencyDecay();
        this.shrinkFactor = (float) config.shrinkFactor();
    }

    public RadarScore score() { return score; }

    /** Metadata bytes read per scored block (per KV head; a GQA group shares the read). */
    public long metadataBytesPerBlock(BlockMetadataStore metadata) {
        return metadata.bytesPerBlock(score, useVariance, useConcentration);
    }

    /**
     * Scores blocks {@code blockIds[0..count)} (a sequence's blocks in position order, so index i is
     * block i) for one query.
     *
     * @param query       {@code [.. queryOffset + headDim ..]} the unscaled query
     * @param out         {@code [outOffset + count]} scores in logit units
     */
    public void scoreBlocks(BlockMetadataStore metadata, float[] query, int queryOffset, int[] blockIds, int count,
                            float[] out, int outOffset) {
        int dim = metadata.headDim();
        float scale = (float) (1.0 / Math.sqrt(dim));
        float queryNorm = (float) Math.sqrt(dot(query, queryOffset, query, queryOffset, dim));
        int newest = count - 1;
        for (int i = 0; i < count; i++) {
            int id = blockIds[i];
            if (!metadata.hasMetadata(id)) {
                out[outOffset + i] = Float.POSITIVE_INFINITY;
                continue;
            }
            float s = switch (score) {
                case BASIC, VARIANCE, CONCENTRATION, CAUSAL -> seedScore(metadata, id, query, queryOffset, queryNorm, dim);
                case QUEST -> boxScore(metadata, id, query, queryOffset, dim, 1f);
                case SHRUNK_BOX -> boxScore(metadata, id, query, queryOffset, dim, shrinkFactor);
                case CERTIFIED -> certifiedBound(metadata, id, query, queryOffset, queryNorm, dim);
            } * scale;
            if (recency) s += (float) (Math.abs(s) * recencyBonus * Math.pow(recencyDecay, newest - i));
            out[outOffset + i] = s;
        }
    }

    /** Seed formula: q.mu + |q| r, the deviation widened by variance and/or scaled by concentration. */
    private float seedScore(BlockMetadataStore m, int id, float[] q, int qOff, float queryNorm, int dim) {
        float base = dot(q, qOff, m.meanDirections(), id * dim, dim);
        float deviation = queryNorm * m.angularRadius(id);
        if (useVariance) deviation *= 1f + (float) Math.sqrt(m.variance(id));
        if (useConcentration) deviation *= 0.3f + 0.7f * m.concentration(id);
        return base + deviation;
    }

    /** q.center + beta * sum_d |q_d| halfwidth_d: beta = 1 is Quest's box bound, 0.5 the shrunk box. */
    private static float boxScore(BlockMetadataStore m, int id, float[] q, int qOff, int dim, float beta) {
        float[] center = m.boxCenters(), half = m.boxHalfWidths();
        int base = id * dim, bound = SPECIES.loopBound(dim);
        FloatVector acc = FloatVector.zero(SPECIES);
        int d = 0;
        for (; d < bound; d += SPECIES.length()) {
            FloatVector qv = FloatVector.fromArray(SPECIES, q, qOff + d);
            acc = qv.fma(FloatVector.fromArray(SPECIES, center, base + d), acc);
            acc = qv.abs().mul(beta).fma(FloatVector.fromArray(SPECIES, half, base + d), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; d < dim; d++) s += q[qOff + d] * center[base + d] + beta * Math.abs(q[qOff + d]) * half[base + d];
        return s;
    }

    /**
     * min(ball, box) plus a margin covering the fp32 rounding of both sums, so the result (times
     * scale) is never below the block's true largest logit.
     */
    private static float certifiedBound(BlockMetadataStore m, int id, float[] q, int qOff, float queryNorm, int dim) {
        float ball = dot(q, qOff, m.centroids(), id * dim, dim) + queryNorm * m.centroidRadius(id);
        float box = boxScore(m, id, q, qOff, dim, 1f);
        float[] norms = m.normSums();
        double sizes = norms[id * 3] + m.centroidRadius(id) + norms[id * 3 + 1] + norms[id * 3 + 2];
        float margin = (float) ((dim + 16) * 0x1p-23 * queryNorm * sizes) + Float.MIN_NORMAL;
        return Math.min(ball, box) + margin;
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0;
        for (; i < bound; i += SPECIES.length()) {
            acc = FloatVector.fromArray(SPECIES, a, aOff + i).fma(FloatVector.fromArray(SPECIES, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }
}
