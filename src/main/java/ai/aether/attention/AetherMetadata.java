package ai.aether.attention;

import java.util.Optional;

/**
 * Block metadata of a keys tensor {@code [B][H][S][D]}, from {@link AetherKernels#precomputeMetadata}:
 * the seed's means, radii, variances, concentrations, plus what the certified and box scores
 * need. N = ceil(S / blockSize); the last block may be partial (its metadata covers its tokens).
 * Also holds the stored keys (in a block pool) so that CERTIFIED selection can compute the exact
 * logits of the always-kept blocks.
 */
public final class AetherMetadata {

    private final int batch, heads, sequenceLength, headDim, blockSize;
    private final boolean variancesComputed, concentrationsComputed;
    final AetherKvPool pool;
    final SequenceKvCache[] sequences;  // [batch], one layer, H KV heads

    AetherMetadata(int batch, int heads, int sequenceLength, int headDim, int blockSize, boolean computeVariance,
                   boolean computeConcentration, AetherKvPool pool, SequenceKvCache[] sequences) {
        this.batch = batch;
        this.heads = heads;
        this.sequenceLength = sequenceLength;
        this.headDim = headDim;
        this.blockSize = blockSize;
        this.variancesComputed = computeVariance;
        this.concentrationsComputed = computeConcentration;
        this.pool = pool;
        this.sequences = sequences;
    }

    public int batch() { return batch; }
    public int heads() { return heads; }
    public int sequenceLength() { return sequenceLength; }
    public int headDim() { return headDim; }
    public int blockSize() { return blockSize; }
    /** N, blocks per head. */
    public int blocks() { return (sequenceLength + blockSize - 1) / blockSize; }

    /** {@code [B][H][N][D]} mean directions mu. */
    public Tensor means() { return vectors(Field.MEAN); }
    /** {@code [B][H][N]} angular radii r. */
    public Tensor radii() { return scalars(Field.RADIUS); }
    /** {@code [B][H][N]} variances, when computed. */
    public Optional<Tensor> variances() { return variancesComputed ? Optional.of(scalars(Field.VARIANCE)) : Optional.empty(); }
    /** {@code [B][H][N]} concentrations in [0.1, 1], when computed. */
    public Optional<Tensor> concentrations() {
        return concentrationsComputed ? Optional.of(scalars(Field.CONCENTRATION)) : Optional.empty();
    }
    /** {@code [B][H][N]} smallest key norm per block. */
    public Tensor minNorms() { return scalars(Field.MIN_NORM); }
    /** {@code [B][H][N]} largest key norm per block. */
    public Tensor maxNorms() { return scalars(Field.MAX_NORM); }
    /** {@code [B][H][N][D]} raw centroids c. */
    public Tensor centroids() { return vectors(Field.CENTROID); }
    /** {@code [B][H][N]} raw radii R = max |k - c|. */
    public Tensor centroidRadii() { return scalars(Field.CENTROID_RADIUS); }
    /** {@code [B][H][N][D]} per-channel key minimum (Quest box). */
    public Tensor boxMin() { return vectors(Field.BOX_MIN); }
    /** {@code [B][H][N][D]} per-channel key maximum (Quest box). */
    public Tensor boxMax() { return vectors(Field.BOX_MAX); }

    private enum Field { MEAN, RADIUS, VARIANCE, CONCENTRATION, MIN_NORM, MAX_NORM, CENTROID, CENTROID_RADIUS, BOX_MIN, BOX_MAX }

    private Tensor scalars(Field field) {
        int n = blocks();
        float[] out = new float[batch * heads * n];  // [B][H][N]
        BlockMetadataStore m = pool.metadata();
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    int id = sequences[b].blockId(0, h, i);
                    out[(b * heads + h) * n + i] = switch (field) {
                        case RADIUS -> m.angularRadius(id);
                        case VARIANCE -> m.variance(id);
                        case CONCENTRATION -> m.concentration(id);
                        case MIN_NORM -> m.minNorm(id);
                        case MAX_NORM -> m.maxNorm(id);
                        case CENTROID_RADIUS -> m.centroidRadius(id);
                        default -> throw new IllegalStateException(field + " is a vector field");
                    };
                }
            }
        }
        return new Tensor(out, new int[] {batch, heads, n});
    }

    private Tensor vectors(Field field) {
        int n = blocks();
        float[] out = new float[batch * heads * n * headDim];  // [B][H][N][D]
        BlockMetadataStore m = pool.metadata();
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    int id = sequences[b].blockId(0, h, i), base = ((b * heads + h) * n + i) * headDim;
                    for (int d = 0; d < headDim; d++) {
                        out[base + d] = switch (field) {
                            case MEAN -> m.meanDirection(id, d);
                            case CENTROID -> m.centroid(id, d);
                            case BOX_MIN -> m.boxMin(id, d);
                            case BOX_MAX -> m.boxMax(id, d);
                            default -> throw new IllegalStateException(field + " is a scalar field");
                        };
                    }
                }
            }
        }
        return new Tensor(out, new int[] {batch, heads, n, headDim});
    }
}
