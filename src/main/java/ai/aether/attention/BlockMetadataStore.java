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
 *
 * <p>The key sketch (KEY_SKETCH score): for {@link #sketchChannels()} chosen channels, every token's
 * deviation from the quantised box centre as an int8 code with a per-channel step, stored channel-major
 * ({@code [channels][blockSize]}) so the radar streams one channel's codes for all tokens at once. The
 * channels are chosen by the cache (the ones where its keys are largest, see {@link SequenceKvCache});
 * the per-block sums of |k| that choice needs are kept here too ({@link #keyMagnitudes()}).
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
    private final int sketchChannels;
    private int keyElementBytes = 2;                // bytes per stored key element (the pool's KV type), for ORACLE's byte count
    private int sketchTokens;                       // block size the sketch rows are laid out for (fixed by the first block)
    private short[] sketchChannel = new short[0];   // [blocks][sketchChannels] channel ids
    private float[] sketchStep = new float[0];      // [blocks][sketchChannels] code step per channel
    private byte[] sketchCodes = new byte[0];       // [blocks][sketchChannels][sketchTokens] (k - centre) / step, rounded
    private float[] keyMagnitude = new float[0];    // [blocks][headDim] sum over the block's tokens of |k_d| (channel choice)

    /** Channels sketched per token (KEY_SKETCH), at most the head dimension. */
    public static final int DEFAULT_SKETCH_CHANNELS = 8;

    public BlockMetadataStore(int headDim) {
        this(headDim, DEFAULT_SKETCH_CHANNELS);
    }

    /** A store sketching {@code min(sketchChannels, headDim)} channels per token. */
    public BlockMetadataStore(int headDim, int sketchChannels) {
        if (headDim < 1) throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
        if (sketchChannels < 1) throw new IllegalArgumentException("sketchChannels must be >= 1, got " + sketchChannels);
        this.headDim = headDim;
        this.quantizedRecordBytes = QuantizedBox.recordBytes(headDim);
        this.sketchChannels = Math.min(sketchChannels, headDim);
    }

    public int headDim() { return headDim; }

    /** Bytes per stored key element, set by the pool from its KV type. */
    void keyElementBytes(int bytes) { keyElementBytes = bytes; }

    /** Channels in each block's key sketch. */
    public int sketchChannels() { return sketchChannels; }

    /** Makes room for block ids below {@code blocks}. */
    public synchronized void ensureCapacity(int blocks) {
        if (blocks <= capacity) return;
        // grow by a quarter, not double: the arrays are ~2 KB per block (an eighth of an fp16 block of 64 x 64),
        // and doubling left up to half of them unused; the extra copies are few and small
        int n = Math.max(blocks, capacity + Math.max(64, capacity / 4));
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
        sketchChannel = Arrays.copyOf(sketchChannel, n * sketchChannels);
        sketchStep = Arrays.copyOf(sketchStep, n * sketchChannels);
        sketchCodes = Arrays.copyOf(sketchCodes, n * sketchChannels * sketchTokens);
        keyMagnitude = Arrays.copyOf(keyMagnitude, n * headDim);
        capacity = n;
    }

    /**
     * Bytes of every per-block array allocated so far (all estimators' summaries are kept for every
     * block, whichever score is configured): the memory AETHER adds to the KV blocks.
     */
    public synchronized long allocatedBytes() {
        long floats = (long) meanDirection.length + angularRadius.length + variance.length + concentration.length + minNorm.length
                + maxNorm.length + centroid.length + centroidRadius.length + boxCenter.length + boxHalfWidth.length + normSums.length
                + sketchStep.length + keyMagnitude.length;
        return 4 * (floats + tokenCount.length) + quantizedBoxes.length + 2L * sketchChannel.length + sketchCodes.length;
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
     * @param keys      {@code [tokens][headDim]} the block's stored keys as fp32
     * @param tokens    keys in the block, >= 1
     * @param channels  {@code [sketchChannels]} distinct channels for the key sketch, ascending, or null for the
     *                  block's own largest-|k| channels
     * @param blockSize tokens a full block holds (>= tokens): the sketch's row length, the same for every block
     */
    public void compute(int blockId, float[] keys, int tokens, int[] channels, int blockSize) {
        if (tokens < 1) throw new IllegalArgumentException("a block's metadata needs at least one key, got " + tokens);
        if (blockId >= capacity) ensureCapacity(blockId + 1);
        int dim = headDim, base = blockId * dim;
        double[] norms = new double[tokens];
        double[] meanDir = new double[dim], mean = new double[dim], lo = new double[dim], hi = new double[dim], magnitude = new double[dim];
        Arrays.fill(lo, Double.POSITIVE_INFINITY);
        Arrays.fill(hi, Double.NEGATIVE_INFINITY);
        double nMin = Double.POSITIVE_INFINITY, nMax = 0;
        for (int t = 0; t < tokens; t++) {
            double sq = 0;
            for (int d = 0; d < dim; d++) {
                double k = keys[t * dim + d];
                sq += k * k;
                mean[d] += k;
                magnitude[d] += Math.abs(k);
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
        for (int d = 0; d < dim; d++) keyMagnitude[base + d] = (float) magnitude[d];
        sketch(blockId, keys, tokens, channels == null ? largestChannels(keyMagnitude, base, dim, sketchChannels) : channels, blockSize);
        tokenCount[blockId] = tokens;
    }

    /**
     * The {@code count} channels with the largest {@code magnitudes[base + d]} (ties: lower channel first),
     * ascending by channel id.
     */
    public static int[] largestChannels(float[] magnitudes, int base, int dim, int count) {
        Integer[] order = new Integer[dim];
        for (int d = 0; d < dim; d++) order[d] = d;
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(magnitudes[base + b], magnitudes[base + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] chosen = new int[Math.min(count, dim)];
        for (int i = 0; i < chosen.length; i++) chosen[i] = order[i];
        Arrays.sort(chosen);
        return chosen;
    }

    /** Whether block {@code blockId}'s sketch covers exactly {@code channels} (ascending). */
    public boolean sketchUses(int blockId, int[] channels) {
        for (int j = 0; j < sketchChannels; j++) if (sketchChannel[blockId * sketchChannels + j] != channels[j]) return false;
        return true;
    }

    /**
     * Sketches an already summarised block again on other channels (its box and the rest of its
     * metadata are unchanged).
     *
     * @param keys {@code [tokens][headDim]} the block's stored keys, tokens = its {@link #tokenCount}
     */
    public void resketch(int blockId, float[] keys, int tokens, int[] channels, int blockSize) {
        if (!hasMetadata(blockId) || tokenCount[blockId] != tokens) {
            throw new IllegalArgumentException("block " + blockId + " has no metadata over " + tokens + " tokens to sketch again");
        }
        sketch(blockId, keys, tokens, channels, blockSize);
    }

    /** Sketch codes of one block: per chosen channel, each token's offset from the decoded box centre on an int8 grid. */
    private void sketch(int blockId, float[] keys, int tokens, int[] channels, int blockSize) {
        int dim = headDim, c = sketchChannels, record = blockId * quantizedRecordBytes;
        if (channels.length != c) throw new IllegalArgumentException("sketch needs " + c + " channels, got " + channels.length);
        if (blockSize < tokens) throw new IllegalArgumentException("blockSize " + blockSize + " is below the block's " + tokens + " tokens");
        fixSketchLayout(blockSize);
        float off = QuantizedBox.offset(quantizedBoxes, record, dim), step = QuantizedBox.step(quantizedBoxes, record, dim);
        int codes = blockId * c * sketchTokens;
        for (int j = 0; j < c; j++) {
            int d = channels[j];
            if (d < 0 || d >= dim) throw new IllegalArgumentException("sketch channel " + d + " outside [0, " + dim + ")");
            sketchChannel[blockId * c + j] = (short) d;
            double centre = step < Float.POSITIVE_INFINITY ? quantizedCentre(record, d, off, step) : 0;
            double reach = 0;
            for (int t = 0; t < tokens; t++) reach = Math.max(reach, Math.abs(keys[t * dim + d] - centre));
            float codeStep = reach > 0 ? (float) (reach / 127) : 1f;
            sketchStep[blockId * c + j] = codeStep;
            int row = codes + j * sketchTokens;
            for (int t = 0; t < sketchTokens; t++) {
                // Padding past a partial block repeats its first token, so a max over the whole row is unchanged.
                double deviation = keys[(t < tokens ? t : 0) * dim + d] - centre;
                sketchCodes[row + t] = (byte) Math.clamp(Math.round(deviation / codeStep), -127, 127);
            }
        }
    }

    /** The first block fixes the sketch row length (heads compute metadata in parallel, hence the lock). */
    private synchronized void fixSketchLayout(int blockSize) {
        if (sketchTokens == 0) {
            sketchTokens = blockSize;
            sketchCodes = new byte[capacity * sketchChannels * sketchTokens];
        } else if (sketchTokens != blockSize) {
            throw new IllegalArgumentException("this store sketches blocks of " + sketchTokens + " tokens, got " + blockSize);
        }
    }

    /** Centre of channel d's decoded quantised box, {@code off + step (L_d + H_d) / 2}. */
    private double quantizedCentre(int record, int d, float off, float step) {
        return off + (double) step * (QuantizedBox.lowCode(quantizedBoxes, record, d) + QuantizedBox.highCode(quantizedBoxes, record, headDim, d)) / 2;
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
    /** {@code [blocks][sketchChannels]} sketched channel ids. */
    short[] sketchChannelIds() { return sketchChannel; }
    /** {@code [blocks][sketchChannels]} sketch code steps. */
    float[] sketchSteps() { return sketchStep; }
    /** {@code [blocks][sketchChannels][sketchTokens]} sketch codes. */
    byte[] sketchCodes() { return sketchCodes; }
    /** Tokens per sketch row (the block size; 0 before the first block). */
    int sketchTokens() { return sketchTokens; }
    /** {@code [blocks][headDim]} per-block sums of |k_d| over the block's tokens. */
    float[] keyMagnitudes() { return keyMagnitude; }
    /** Sketched channel {@code j} of a block. */
    public int sketchChannel(int blockId, int j) { return sketchChannel[blockId * sketchChannels + j]; }
    /** The decoded sketch value of token {@code t}, channel slot {@code j}: its key's offset from the box centre, approximately. */
    public float sketchDeviation(int blockId, int j, int t) {
        return sketchStep[blockId * sketchChannels + j] * sketchCodes[(blockId * sketchChannels + j) * sketchTokens + t];
    }

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
            // the box record (for the centre), then per sketched channel: its id (2), step (4) and one code per token
            case KEY_SKETCH -> quantizedRecordBytes + (long) sketchChannels * (6 + Math.max(sketchTokens, 1));
            case ORACLE -> (long) Math.max(sketchTokens, 1) * headDim * keyElementBytes;  // every key of the block
            case CERTIFIED -> 3 * vector + 4 + 12;
        };
    }
}
