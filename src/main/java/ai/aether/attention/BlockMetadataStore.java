package ai.aether.attention;

import java.util.Arrays;

/**
 * Per-block key metadata (SPEC 1.1), structure-of-arrays and indexed by the block's id in its
 * {@link ai.aether.kernels.attention.KvBlockPool}, so each radar score streams only the arrays it
 * needs. Metadata is a deterministic function of the block's stored (dtype-rounded) keys; it is
 * written once, when the block is final.
 *
 * <p>Per block (D = headDim): mean direction {@code mu} [D], angular radius {@code r}, variance,
 * concentration (clamped to [0.1, 1]), min/max key norm, raw centroid {@code c} [D] and raw
 * radius {@code R = max |k - c|}, and the per-channel key box as centre [D] and half-width [D].
 * Stored radii and half-widths are rounded up so that the stored box and ball still contain
 * every key; {@code centroidNorm}, {@code boxCenterNorm}, {@code boxHalfWidthNorm} size the
 * fp32 rounding margin of the certified score. Also the 8-bit quantised box ({@link QuantizedBox}:
 * 2D uint8 codes plus fp16 offset and step, rounded outwards so it still contains every key), which
 * is all that the QUANTIZED_BOX / QUANTIZED_BOUND scores read.
 */
public final class BlockMetadataStore {

    private final int headDim;
    private final int quantizedRecordBytes;
    private int capacity;

    private int[] tokenCount = new int[0];          // [blocks] tokens summarised, 0 = no metadata yet
    private float[] meanDirection = new float[0];   // [blocks][headDim]
    private float[] angularRadius = new float[0];   // [blocks]
    private float[] variance = new float[0];        // [blocks]
    private float[] concentration = new float[0];   // [blocks]
    private float[] minNorm = new float[0];         // [blocks]
    private float[] maxNorm = new float[0];         // [blocks]
    private float[] centroid = new float[0];        // [blocks][headDim]
    private float[] centroidRadius = new float[0];  // [blocks]
    private float[] boxCenter = new float[0];       // [blocks][headDim]
    private float[] boxHalfWidth = new float[0];    // [blocks][headDim]
    private float[] normSums = new float[0];        // [blocks][3]: |c|, |boxCenter|, |boxHalfWidth|
    private byte[] quantizedBoxes = new byte[0];    // [blocks][2 * headDim + 4] QuantizedBox records

    public BlockMetadataStore(int headDim) {
        if (headDim < 1) throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
        this.headDim = headDim;
        this.quantizedRecordBytes = QuantizedBox.recordBytes(headDim);
    }

    public int headDim() { return headDim; }

    /** Makes room for block ids below {@code blocks}. */
    public synchronized void ensureCapacity(int blocks) {
        if (blocks <= capacity) return;
        int n = Math.max(blocks, capacity * 2);
        tokenCount = Arrays.copyOf(tokenCount, n);
        meanDirection = Arrays.copyOf(meanDirection, n * headDim);
        angularRadius = Arrays.copyOf(angularRadius, n);
        variance = Arrays.copyOf(variance, n);
        concentration = Arrays.copyOf(concentration, n);
        minNorm = Arrays.copyOf(minNorm, n);
        maxNorm = Arrays.copyOf(maxNorm, n);
        centroid = Arrays.copyOf(centroid, n * headDim);
        centroidRadius = Arrays.copyOf(centroidRadius, n);
        boxCenter = Arrays.copyOf(boxCenter, n * headDim);
        boxHalfWidth = Arrays.copyOf(boxHalfWidth, n * headDim);
        normSums = Arrays.copyOf(normSums, n * 3);
        quantizedBoxes = Arrays.copyOf(quantizedBoxes, n * quantizedRecordBytes);
        capacity = n;
    }

    /** Forgets a block's metadata (when its id is released). */
    public void clear(int blockId) {
        if (blockId < capacity) tokenCount[blockId] = 0;
    }

    /** Whether the block has final metadata. */
    public boolean hasMetadata(int blockId) {
        return blockId < capacity && tokenCount[blockId] > 0;
    }

    /**
     * Computes the metadata of block {@code blockId} from its keys, in float64.
     *
     * @param keys   {@code [tokens][headDim]} the block's stored keys as fp32
     * @param tokens keys in the block, >= 1
     */
    public void compute(int blockId, float[] keys, int tokens) {
        if (tokens < 1) throw new IllegalArgumentException("a block's metadata needs at least one key, got " + tokens);
        if (blockId >= capacity) ensureCapacity(blockId + 1);
        int dim = headDim, base = blockId * dim;
        double[] norms = new double[tokens];
        double[] meanDir = new double[dim], mean = new double[dim], lo = new double[dim], hi = new double[dim];
        Arrays.fill(lo, Double.POSITIVE_INFINITY);
        Arrays.fill(hi, Double.NEGATIVE_INFINITY);
        double nMin = Double.POSITIVE_INFINITY, nMax = 0;
        for (int t = 0; t < tokens; t++) {
            double sq = 0;
            for (int d = 0; d < dim; d++) {
                double k = keys[t * dim + d];
                sq += k * k;
                mean[d] += k;
                lo[d] = Math.min(lo[d], k);
                hi[d] = Math.max(hi[d], k);
            }
            norms[t] = Math.sqrt(sq);
            nMin = Math.min(nMin, norms[t]);
            nMax = Math.max(nMax, norms[t]);
            if (norms[t] > 0) for (int d = 0; d < dim; d++) meanDir[d] += keys[t * dim + d] / norms[t];
        }
        double dirNorm = 0;
        for (int d = 0; d < dim; d++) {
            mean[d] /= tokens;
            meanDir[d] /= tokens;
            dirNorm += meanDir[d] * meanDir[d];
        }
        dirNorm = Math.sqrt(dirNorm);
        for (int d = 0; d < dim; d++) meanDir[d] = dirNorm > 0 ? meanDir[d] / dirNorm : 0;
        // Angular spread around mu, measured against the fp32 mu actually stored.
        double maxDev = 0, sumDevSq = 0, sumCos = 0;
        for (int d = 0; d < dim; d++) meanDirection[base + d] = (float) meanDir[d];
        for (int t = 0; t < tokens; t++) {
            double devSq = 0, cos = 0;
            for (int d = 0; d < dim; d++) {
                double khat = norms[t] > 0 ? keys[t * dim + d] / norms[t] : 0;
                double diff = khat - meanDirection[base + d];
                devSq += diff * diff;
                cos += khat * meanDirection[base + d];
            }
            maxDev = Math.max(maxDev, Math.sqrt(devSq));
            sumDevSq += devSq;
            sumCos += cos;
        }
        angularRadius[blockId] = roundUp(maxDev);
        variance[blockId] = (float) (sumDevSq / tokens);
        concentration[blockId] = (float) Math.clamp(sumCos / tokens, 0.1, 1.0);
        minNorm[blockId] = roundDown(nMin);
        maxNorm[blockId] = roundUp(nMax);
        // Raw ball, radius measured from the stored fp32 centroid.
        double centroidNormSq = 0;
        for (int d = 0; d < dim; d++) {
            centroid[base + d] = (float) mean[d];
            centroidNormSq += (double) centroid[base + d] * centroid[base + d];
        }
        double maxDist = 0;
        for (int t = 0; t < tokens; t++) {
            double sq = 0;
            for (int d = 0; d < dim; d++) {
                double diff = keys[t * dim + d] - (double) centroid[base + d];
                sq += diff * diff;
            }
            maxDist = Math.max(maxDist, Math.sqrt(sq));
        }
        centroidRadius[blockId] = roundUp(maxDist);
        // Box: half-width widened by the centre's rounding so [centre - hw, centre + hw] holds every key.
        double centerNormSq = 0, halfNormSq = 0;
        for (int d = 0; d < dim; d++) {
            double center = (lo[d] + hi[d]) / 2;
            float storedCenter = (float) center;
            double half = Math.max(hi[d] - storedCenter, storedCenter - lo[d]);
            boxCenter[base + d] = storedCenter;
            boxHalfWidth[base + d] = roundUp(half);
            centerNormSq += (double) storedCenter * storedCenter;
            halfNormSq += (double) boxHalfWidth[base + d] * boxHalfWidth[base + d];
        }
        normSums[blockId * 3] = roundUp(Math.sqrt(centroidNormSq));
        normSums[blockId * 3 + 1] = roundUp(Math.sqrt(centerNormSq));
        normSums[blockId * 3 + 2] = roundUp(Math.sqrt(halfNormSq));
        QuantizedBox.encode(lo, hi, dim, quantizedBoxes, blockId * quantizedRecordBytes);
        tokenCount[blockId] = tokens;
    }

    private static float roundUp(double x) {
        float f = (float) x;
        return f < x ? Math.nextUp(f) : f;
    }

    private static float roundDown(double x) {
        float f = (float) x;
        return f > x ? Math.nextDown(f) : f;
    }

    // ---- read access (arrays are shared, not copied: the radar streams them) ----

    public int tokenCount(int blockId) { return tokenCount[blockId]; }
    /** {@code [blocks][headDim]} mean directions. */
    float[] meanDirections() { return meanDirection; }
    float[] centroids() { return centroid; }
    float[] boxCenters() { return boxCenter; }
    float[] boxHalfWidths() { return boxHalfWidth; }
    float[] normSums() { return normSums; }
    /** {@code [blocks][2 * headDim + 4]} quantised box records (layout in {@link QuantizedBox}). */
    byte[] quantizedBoxes() { return quantizedBoxes; }
    int quantizedRecordBytes() { return quantizedRecordBytes; }

    public float angularRadius(int blockId) { return angularRadius[blockId]; }
    public float variance(int blockId) { return variance[blockId]; }
    public float concentration(int blockId) { return concentration[blockId]; }
    public float minNorm(int blockId) { return minNorm[blockId]; }
    public float maxNorm(int blockId) { return maxNorm[blockId]; }
    public float centroidRadius(int blockId) { return centroidRadius[blockId]; }
    public float meanDirection(int blockId, int d) { return meanDirection[blockId * headDim + d]; }
    public float centroid(int blockId, int d) { return centroid[blockId * headDim + d]; }
    public float boxCenter(int blockId, int d) { return boxCenter[blockId * headDim + d]; }
    public float boxHalfWidth(int blockId, int d) { return boxHalfWidth[blockId * headDim + d]; }
    /** Lower end of the block's key range in channel d (centre - half-width, rounded outwards). */
    public float boxMin(int blockId, int d) { return boxCenter(blockId, d) - boxHalfWidth(blockId, d); }
    public float boxMax(int blockId, int d) { return boxCenter(blockId, d) + boxHalfWidth(blockId, d); }

    /** Quantised box: fp16 grid offset. */
    public float quantizedOffset(int blockId) { return QuantizedBox.offset(quantizedBoxes, blockId * quantizedRecordBytes, headDim); }
    /** Quantised box: fp16 grid step, +infinity when the keys leave the fp16 range (the block is then always kept). */
    public float quantizedStep(int blockId) { return QuantizedBox.step(quantizedBoxes, blockId * quantizedRecordBytes, headDim); }
    /** Quantised box: code L_d (0..255) of channel d's lower end. */
    public int quantizedLowCode(int blockId, int d) { return QuantizedBox.lowCode(quantizedBoxes, blockId * quantizedRecordBytes, d); }
    /** Quantised box: code H_d (0..255) of channel d's upper end. */
    public int quantizedHighCode(int blockId, int d) {
        return QuantizedBox.highCode(quantizedBoxes, blockId * quantizedRecordBytes, headDim, d);
    }

    /** Metadata bytes the radar reads per block for a score (count honestly for bytes-read comparisons). */
    public long bytesPerBlock(RadarScore score, boolean useVariance, boolean useConcentration) {
        long vector = 4L * headDim;
        return switch (score) {
            case BASIC, CAUSAL -> vector + 4 + (useVariance ? 4 : 0) + (useConcentration ? 4 : 0);
            case VARIANCE -> vector + 8 + (useConcentration ? 4 : 0);
            case CONCENTRATION -> vector + 8 + (useVariance ? 4 : 0);
            case QUEST, SHRUNK_BOX -> 2 * vector;
            case QUANTIZED_BOX, QUANTIZED_BOUND -> quantizedRecordBytes;
            case CERTIFIED -> 3 * vector + 4 + 12;
        };
    }
}
