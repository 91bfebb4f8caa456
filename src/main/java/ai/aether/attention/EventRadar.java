package ai.aether.attention;

import ai.aether.kernels.ops.Lanes;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The event radar: scores every block of one KV head for one query vector from the block
 * metadata alone (SPEC 1.2), in logit units. See {@link RadarScore} for which scores are true
 * bounds. Blocks without metadata yet (the open block) score +infinity: they are always kept.
 * Not thread-safe (it owns scratch arrays): one per {@link BlockSelector}.
 */
public final class EventRadar {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Quantised codes are widened byte -> float, one byte lane per float lane (at least 8 lanes: a 64-bit byte vector). */
    private static final VectorSpecies<Float> CODE_FLOATS = SPECIES.length() >= 8 ? SPECIES : FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> CODE_BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(CODE_FLOATS.length() * 8));

    private final RadarScore score;
    private final boolean useVariance;
    private final boolean useConcentration;
    private final boolean recency;
    private final double recencyBonus;
    private final double recencyDecay;
    private final float shrinkFactor;
    private float[] codeWeights = new float[0];  // [rows][2 * headDim] quantised scores: query weights of the L and H codes
    private float[] rowSums = new float[0];      // [rows][2] quantised scores: sum_d q_d, sum_d |q_d|
    private float[] dots = new float[0];         // [rows] one block's code dot products
    private float[] sketchWeights = new float[0]; // [rows][sketchChannels] KEY_SKETCH: q at each sketched channel times its step
    private float[] sketchMax = new float[0];    // [rows] KEY_SKETCH: one block's largest sketched token offset

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

    private boolean isQuantized() {
        return score == RadarScore.QUANTIZED_BOX || score == RadarScore.QUANTIZED_BOUND || score == RadarScore.KEY_SKETCH;
    }

    /** Metadata bytes read per scored block (per KV head; a GQA group shares the read). */
    public long metadataBytesPerBlock(BlockMetadataStore metadata) {
        return metadata.bytesPerBlock(score, useVariance, useConcentration);
    }

    /**
     * Scores blocks {@code blockIds[0..count)} for {@code rows} query rows (a GQA group sharing one
     * selection): row r's scores go to {@code out[r * count .. r * count + count)}. The quantised box
     * scores widen each block's codes once for the whole group.
     *
     * @param queries {@code [.. rowOffset + rows * headDim ..]} the unscaled query rows
     * @param out     {@code [rows][count]} scores in logit units
     */
    public void scoreRows(BlockMetadataStore metadata, float[] queries, int rowOffset, int rows, int[] blockIds, int count, float[] out) {
        if (score == RadarScore.ORACLE) throw oracleNeedsKeys();
        if (isQuantized()) {
            scoreQuantized(metadata, queries, rowOffset, rows, blockIds, count, out, 0);
            return;
        }
        int dim = metadata.headDim();
        for (int r = 0; r < rows; r++) scoreBlocks(metadata, queries, rowOffset + r * dim, blockIds, count, out, r * count);
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
        if (isQuantized()) {
            scoreQuantized(metadata, query, queryOffset, 1, blockIds, count, out, outOffset);
            return;
        }
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
                case QUANTIZED_BOX, QUANTIZED_BOUND, KEY_SKETCH -> throw new IllegalStateException("quantised scores are computed per group");
                case ORACLE -> throw oracleNeedsKeys();
            } * scale;
            if (recency) s += (float) (Math.abs(s) * recencyBonus * Math.pow(recencyDecay, newest - i));
            out[outOffset + i] = s;
        }
    }

    /**
     * Quantised box scores. With codes L, H, grid (off, step), c = off + step (L + H) / 2 and
     * h = step (H - L) / 2, the score {@code q.c + beta sum_d |q_d| h_d} rearranges to
     * {@code off sum_d q_d + step/2 (a.L + b.H)} with a = q - beta |q|, b = q + beta |q|; the codes are
     * stored minus 128, which moves {@code 128 step sum_d q_d} into the first term. So per block and
     * row: one dot product of 2D floats with 2D widened bytes and two scalars (beta = 1 for the bound).
     */
    private void scoreQuantized(BlockMetadataStore metadata, float[] queries, int rowOffset, int rows, int[] blockIds, int count,
                                float[] out, int outOffset) {
        int dim = metadata.headDim(), width = 2 * dim, record = metadata.quantizedRecordBytes();
        boolean bound = score == RadarScore.QUANTIZED_BOUND, sketch = score == RadarScore.KEY_SKETCH;
        float beta = bound ? 1f : sketch ? 0f : shrinkFactor, scale = (float) (1.0 / Math.sqrt(dim));
        if (codeWeights.length < rows * width) {
            codeWeights = new float[rows * width];
            rowSums = new float[rows * 2];
        }
        int queryBound = SPECIES.loopBound(dim);
        for (int r = 0; r < rows; r++) {
            int q0 = rowOffset + r * dim, w0 = r * width;
            FloatVector sums = FloatVector.zero(SPECIES), norms = FloatVector.zero(SPECIES);
            int d = 0;
            for (; d < queryBound; d += SPECIES.length()) {
                FloatVector q = FloatVector.fromArray(SPECIES, queries, q0 + d), magnitude = q.abs();
                q.sub(magnitude.mul(beta)).intoArray(codeWeights, w0 + d);
                q.add(magnitude.mul(beta)).intoArray(codeWeights, w0 + dim + d);
                sums = sums.add(q);
                norms = norms.add(magnitude);
            }
            float sum = Lanes.sum(sums), l1 = Lanes.sum(norms);
            for (; d < dim; d++) {
                float q = queries[q0 + d], reach = beta * Math.abs(q);
                codeWeights[w0 + d] = q - reach;
                codeWeights[w0 + dim + d] = q + reach;
                sum += q;
                l1 += Math.abs(q);
            }
            rowSums[2 * r] = sum;
            rowSums[2 * r + 1] = l1;
        }
        if (dots.length < rows) dots = new float[rows];
        byte[] records = metadata.quantizedBoxes();
        for (int i = 0; i < count; i++) {
            int id = blockIds[i], base = id * record;
            float step = metadata.hasMetadata(id) ? QuantizedBox.step(records, base, dim) : Float.POSITIVE_INFINITY;
            if (!(step < Float.POSITIVE_INFINITY)) {  // open block, or keys beyond the fp16 grid: always kept
                for (int r = 0; r < rows; r++) out[outOffset + r * count + i] = Float.POSITIVE_INFINITY;
                continue;
            }
            codeDots(records, base, width, rows);
            float off = QuantizedBox.offset(records, base, dim);
            float origin = off + QuantizedBox.CODE_BIAS * step, halfStep = 0.5f * step;
            if (sketch) sketchMax(metadata, id, queries, rowOffset, rows, dim);
            for (int r = 0; r < rows; r++) {
                float s = origin * rowSums[2 * r] + halfStep * dots[r];
                if (sketch) s += sketchMax[r];
                if (bound) {
                    // fp32 rounding of sum q, origin, the 2D-term dot and the products: every term is at most
                    // |q|_1 (|off| + 384 step) in size, each rounding a relative 2^-24.
                    s += (float) ((4.0 * dim + 64) * 0x1p-24 * rowSums[2 * r + 1] * (Math.abs(off) + 384.0 * step)) + Float.MIN_NORMAL;
                }
                out[outOffset + r * count + i] = s * scale;
            }
        }
    }

    /**
     * {@code sketchMax[r] = max_t sum_j q_r[ch_j] step_j code_jt} over the block's sketch (the largest
     * token offset from the box centre that the sketched channels see), for up to three rows at a
     * time. Tokens go in groups of four vectors: per channel, four code vectors are widened once and
     * feed every row's four accumulators (all in registers), and each row's running maximum is
     * reduced across lanes once per block.
     */
    private void sketchMax(BlockMetadataStore metadata, int id, float[] queries, int rowOffset, int rows, int dim) {
        int channels = metadata.sketchChannels(), tokens = metadata.sketchTokens(), lanes = CODE_FLOATS.length();
        short[] ids = metadata.sketchChannelIds();
        float[] steps = metadata.sketchSteps();
        byte[] codes = metadata.sketchCodes();
        if (sketchWeights.length < rows * channels) sketchWeights = new float[rows * channels];
        if (sketchMax.length < rows) sketchMax = new float[rows];
        int record = id * channels, codeBase = id * channels * tokens;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < channels; j++) sketchWeights[r * channels + j] = queries[rowOffset + r * dim + ids[record + j]] * steps[record + j];
        }
        int group = 4 * lanes, bound = tokens - tokens % group;
        for (int r0 = 0; r0 < rows; r0 += 3) {
            int n = Math.min(3, rows - r0), w0 = r0 * channels, w1 = w0 + channels, w2 = w1 + channels;
            FloatVector m0 = FloatVector.broadcast(CODE_FLOATS, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0;
            for (int t = 0; t < bound; t += group) {
                FloatVector a0 = FloatVector.zero(CODE_FLOATS), a1 = a0, a2 = a0, a3 = a0;
                FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
                for (int j = 0; j < channels; j++) {
                    int at = codeBase + j * tokens + t;
                    FloatVector k0 = widen(codes, at), k1 = widen(codes, at + lanes), k2 = widen(codes, at + 2 * lanes),
                            k3 = widen(codes, at + 3 * lanes);
                    FloatVector w = FloatVector.broadcast(CODE_FLOATS, sketchWeights[w0 + j]);
                    a0 = k0.fma(w, a0); a1 = k1.fma(w, a1); a2 = k2.fma(w, a2); a3 = k3.fma(w, a3);
                    if (n > 1) {
                        w = FloatVector.broadcast(CODE_FLOATS, sketchWeights[w1 + j]);
                        b0 = k0.fma(w, b0); b1 = k1.fma(w, b1); b2 = k2.fma(w, b2); b3 = k3.fma(w, b3);
                    }
                    if (n > 2) {
                        w = FloatVector.broadcast(CODE_FLOATS, sketchWeights[w2 + j]);
                        c0 = k0.fma(w, c0); c1 = k1.fma(w, c1); c2 = k2.fma(w, c2); c3 = k3.fma(w, c3);
                    }
                }
                m0 = m0.max(a0.max(a1).max(a2.max(a3)));
                if (n > 1) m1 = m1.max(b0.max(b1).max(b2.max(b3)));
                if (n > 2) m2 = m2.max(c0.max(c1).max(c2.max(c3)));
            }
            int single = tokens - tokens % lanes;
            for (int t = bound; t < single; t += lanes) {  // one vector of tokens at a time (e.g. block 32 on 16 lanes)
                FloatVector a = FloatVector.zero(CODE_FLOATS), b = a, c = a;
                for (int j = 0; j < channels; j++) {
                    FloatVector k = widen(codes, codeBase + j * tokens + t);
                    a = k.fma(FloatVector.broadcast(CODE_FLOATS, sketchWeights[w0 + j]), a);
                    if (n > 1) b = k.fma(FloatVector.broadcast(CODE_FLOATS, sketchWeights[w1 + j]), b);
                    if (n > 2) c = k.fma(FloatVector.broadcast(CODE_FLOATS, sketchWeights[w2 + j]), c);
                }
                m0 = m0.max(a);
                if (n > 1) m1 = m1.max(b);
                if (n > 2) m2 = m2.max(c);
            }
            sketchMax[r0] = m0.reduceLanes(VectorOperators.MAX);
            if (n > 1) sketchMax[r0 + 1] = m1.reduceLanes(VectorOperators.MAX);
            if (n > 2) sketchMax[r0 + 2] = m2.reduceLanes(VectorOperators.MAX);
            for (int t = single; t < tokens; t++) {  // block sizes that are not a multiple of the vector length
                for (int r = r0; r < r0 + n; r++) {
                    float v = 0;
                    for (int j = 0; j < channels; j++) v += sketchWeights[r * channels + j] * codes[codeBase + j * tokens + t];
                    sketchMax[r] = Math.max(sketchMax[r], v);
                }
            }
        }
    }

    private static FloatVector widen(byte[] codes, int at) {
        return (FloatVector) ByteVector.fromArray(CODE_BYTES, codes, at).convertShape(VectorOperators.B2F, CODE_FLOATS, 0);
    }

    /**
     * {@code dots[r] = codeWeights[r] . (codes - 128)} for one block's record, the codes widened once
     * per vector for up to four rows at a time (accumulators stay in registers).
     */
    private void codeDots(byte[] records, int base, int width, int rows) {
        int bound = CODE_FLOATS.loopBound(width), lanes = CODE_FLOATS.length();
        for (int r0 = 0; r0 < rows; r0 += 4) {
            int n = Math.min(4, rows - r0), w0 = r0 * width, w1 = w0 + width, w2 = w1 + width, w3 = w2 + width;
            FloatVector a0 = FloatVector.zero(CODE_FLOATS), a1 = a0, a2 = a0, a3 = a0;
            int j = 0;
            for (; j < bound; j += lanes) {
                FloatVector c = (FloatVector) ByteVector.fromArray(CODE_BYTES, records, base + j)
                        .convertShape(VectorOperators.B2F, CODE_FLOATS, 0);
                a0 = FloatVector.fromArray(CODE_FLOATS, codeWeights, w0 + j).fma(c, a0);
                if (n > 1) a1 = FloatVector.fromArray(CODE_FLOATS, codeWeights, w1 + j).fma(c, a1);
                if (n > 2) a2 = FloatVector.fromArray(CODE_FLOATS, codeWeights, w2 + j).fma(c, a2);
                if (n > 3) a3 = FloatVector.fromArray(CODE_FLOATS, codeWeights, w3 + j).fma(c, a3);
            }
            dots[r0] = Lanes.sum(a0);
            if (n > 1) dots[r0 + 1] = Lanes.sum(a1);
            if (n > 2) dots[r0 + 2] = Lanes.sum(a2);
            if (n > 3) dots[r0 + 3] = Lanes.sum(a3);
            for (; j < width; j++) {
                for (int r = 0; r < n; r++) dots[r0 + r] += codeWeights[w0 + r * width + j] * records[base + j];
            }
        }
    }

    private static IllegalStateException oracleNeedsKeys() {
        return new IllegalStateException("the ORACLE score needs the keys, not just the metadata: BlockSelector computes it");
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
        float s = Lanes.sum(acc);
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
        float s = Lanes.sum(acc);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }
}
