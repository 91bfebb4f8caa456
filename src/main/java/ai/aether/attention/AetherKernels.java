package ai.aether.attention;

import ai.aether.kernels.attention.AttentionBackend;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;

import java.util.Arrays;

/**
 * The low-level API mirroring the seed: metadata precompute, the event radar with selection, and
 * sparse / dense attention over plain tensors. Each call builds a block pool from the tensors, so
 * it is meant for tests, tools and experiments; the engine uses {@link AetherAttention} over a
 * persistent {@link SequenceKvCache}.
 *
 * <pre>{@code
 * AetherMetadata meta = AetherKernels.precomputeMetadata(keys, 64, true, true);       // keys [B][H][S][D]
 * SparseSelection sel = AetherKernels.runAetherSparse(query, meta, config);           // query [B][Hq][D]
 * Tensor out = AetherKernels.sparseAttention(query, keys, values, sel.mask(), 64, KvDtype.FP32);
 * }</pre>
 */
public final class AetherKernels {

    private AetherKernels() {}

    /**
     * Per-block metadata of {@code keys [B][H][S][D]} (fp32 storage). S need not be a multiple of
     * blockSize. The flags say whether variances / concentrations are reported (the seed's
     * {@code compute_variance}, {@code compute_concentration}).
     */
    public static AetherMetadata precomputeMetadata(Tensor keys, int blockSize, boolean computeVariance, boolean computeConcentration) {
        return precomputeMetadata(keys, blockSize, KvDtype.FP32, computeVariance, computeConcentration);
    }

    /** As {@link #precomputeMetadata(Tensor, int, boolean, boolean)} with keys rounded to {@code dtype} first. */
    public static AetherMetadata precomputeMetadata(Tensor keys, int blockSize, KvDtype dtype, boolean computeVariance,
                                                    boolean computeConcentration) {
        requireBlockSize(blockSize);
        keys.requireRank("keys", 4, "[batch][heads][seqLen][headDim]").requireFinite("keys");
        int batch = keys.dim(0), heads = keys.dim(1), length = keys.dim(2), dim = keys.dim(3);
        AetherKvPool pool = new AetherKvPool(dim, blockSize, dtype, batch * heads * ((length + blockSize - 1) / blockSize));
        SequenceKvCache[] sequences = fill(pool, keys, null);
        for (SequenceKvCache s : sequences) s.summarizeOpenBlocks(0);
        return new AetherMetadata(batch, heads, length, dim, blockSize, computeVariance, computeConcentration, pool, sequences);
    }

    /**
     * Event radar and selection for {@code query [B][Hq][D]} against the metadata's blocks (SPEC
     * 1.2-1.4); Hq must be a multiple of the metadata's head count H (GQA). {@code denseLayers} does
     * not apply here (there is no layer); {@code minSeqLength} does.
     */
    public static SparseSelection runAetherSparse(Tensor query, AetherMetadata metadata, AetherConfig config) {
        query.requireRank("query", 3, "[batch][queryHeads][headDim]").requireFinite("query");
        int batch = query.dim(0), queryHeads = query.dim(1), dim = query.dim(2), kvHeads = metadata.heads();
        if (batch != metadata.batch()) throw new IllegalArgumentException("query batch " + batch + " differs from the keys' batch " + metadata.batch());
        if (dim != metadata.headDim()) throw new IllegalArgumentException("query headDim " + dim + " differs from the keys' headDim " + metadata.headDim());
        requireGqa(queryHeads, kvHeads);
        if (config.blockSize() != metadata.blockSize()) {
            throw new IllegalArgumentException("config blockSize " + config.blockSize() + " differs from the metadata's blockSize " + metadata.blockSize());
        }
        boolean perQueryHead = config.gqaPolicy() == GqaPolicy.PER_QUERY_HEAD;
        int lists = perQueryHead ? queryHeads : kvHeads, rows = queryHeads / lists, group = queryHeads / kvHeads;
        int blocks = metadata.blocks();
        boolean[] mask = new boolean[batch * lists * blocks];      // [B][lists][N]
        float[] scores = new float[batch * queryHeads * blocks];   // [B][Hq][N]
        double[] bounds = new double[batch * lists];               // [B][lists]
        BlockSelector selector = new BlockSelector(config);
        boolean[] keep = new boolean[blocks];
        float[] listScores = new float[rows * blocks];
        for (int b = 0; b < batch; b++) {
            SequenceKvCache cache = metadata.sequences[b];
            for (int l = 0; l < lists; l++) {
                int kvHead = l * rows / group;
                BlockSelector.Outcome o = selector.select(metadata.pool, cache.blockIdsView(0, kvHead), blocks, metadata.sequenceLength(),
                        query.data(), (b * queryHeads + l * rows) * dim, rows, false, keep, listScores);
                System.arraycopy(keep, 0, mask, (b * lists + l) * blocks, blocks);
                System.arraycopy(listScores, 0, scores, (b * queryHeads + l * rows) * blocks, rows * blocks);
                bounds[b * lists + l] = o.certifiedDroppedMass();
            }
        }
        return new SparseSelection(new BlockMask(mask, new int[] {batch, lists, blocks}),
                new Tensor(scores, new int[] {batch, queryHeads, blocks}), bounds);
    }

    /**
     * Exact attention of {@code query [B][Hq][D]} over the blocks kept by {@code mask} of
     * {@code keys, values [B][Hkv][S][D]} stored as {@code dtype}. The mask's lists are the KV
     * heads, or the query heads for a per-query-head selection.
     *
     * @return {@code [B][Hq][D]}
     */
    public static Tensor sparseAttention(Tensor query, Tensor keys, Tensor values, BlockMask mask, int blockSize, KvDtype dtype) {
        requireBlockSize(blockSize);
        query.requireRank("query", 3, "[batch][queryHeads][headDim]").requireFinite("query");
        keys.requireRank("keys", 4, "[batch][kvHeads][seqLen][headDim]").requireFinite("keys");
        values.requireRank("values", 4, "[batch][kvHeads][seqLen][headDim]").requireFinite("values");
        if (!Arrays.equals(keys.shape(), values.shape())) {
            throw new IllegalArgumentException("keys " + Arrays.toString(keys.shape()) + " and values " + Arrays.toString(values.shape()) + " must have one shape");
        }
        int batch = query.dim(0), queryHeads = query.dim(1), dim = query.dim(2), kvHeads = keys.dim(1), length = keys.dim(2);
        if (keys.dim(0) != batch) throw new IllegalArgumentException("keys batch " + keys.dim(0) + " differs from the query batch " + batch);
        if (keys.dim(3) != dim) throw new IllegalArgumentException("keys headDim " + keys.dim(3) + " differs from the query headDim " + dim);
        requireGqa(queryHeads, kvHeads);
        int blocks = (length + blockSize - 1) / blockSize;
        boolean perQueryHead = mask.lists() == queryHeads && queryHeads != kvHeads;
        if (mask.batch() != batch || mask.blocks() != blocks || (mask.lists() != kvHeads && mask.lists() != queryHeads)) {
            throw new IllegalArgumentException("mask shape " + Arrays.toString(mask.shape()) + " must be [batch=" + batch + "][kvHeads="
                    + kvHeads + " or queryHeads=" + queryHeads + "][blocks=" + blocks + "]");
        }
        AetherKvPool pool = new AetherKvPool(dim, blockSize, dtype, batch * kvHeads * blocks);
        SequenceKvCache[] sequences = fill(pool, keys, values);
        DecodePlan plan = new DecodePlan(batch, queryHeads, kvHeads, dim, perQueryHead);
        for (int b = 0; b < batch; b++) {
            plan.setSequenceLength(b, length);
            for (int l = 0; l < mask.lists(); l++) {
                int kvHead = plan.kvHeadOfList(l);
                for (int i = 0; i < blocks; i++) if (mask.kept(b, l, i)) plan.addBlock(b, l, sequences[b].blockId(0, kvHead, i), i);
                if (plan.keptCount(b, l) == 0) throw new IllegalArgumentException("mask keeps no block for sequence " + b + ", list " + l);
            }
        }
        AttentionBackend backend = AttentionBackend.load();
        backend.plan(plan, pool.blocks());
        float[] out = new float[batch * queryHeads * dim];  // [B][Hq][D]
        backend.decode(pool.blocks(), plan, query.data(), out);
        return new Tensor(out, new int[] {batch, queryHeads, dim});
    }

    /** Dense attention: {@link #sparseAttention} with every block kept. */
    public static Tensor denseAttention(Tensor query, Tensor keys, Tensor values, KvDtype dtype) {
        keys.requireRank("keys", 4, "[batch][kvHeads][seqLen][headDim]");
        int blockSize = 64;
        return sparseAttention(query, keys, values,
                BlockMask.all(keys.dim(0), keys.dim(1), (keys.dim(2) + blockSize - 1) / blockSize), blockSize, dtype);
    }

    /** One cache per batch element (one layer, H heads) holding the tensor's keys (and values, or zeros). */
    private static SequenceKvCache[] fill(AetherKvPool pool, Tensor keys, Tensor values) {
        int batch = keys.dim(0), heads = keys.dim(1), length = keys.dim(2), dim = keys.dim(3);
        SequenceKvCache[] sequences = new SequenceKvCache[batch];
        float[] k = new float[length * heads * dim], v = new float[length * heads * dim];  // [S][H][D]
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < length; t++) {
                    int src = ((b * heads + h) * length + t) * dim, dst = (t * heads + h) * dim;
                    System.arraycopy(keys.data(), src, k, dst, dim);
                    if (values != null) System.arraycopy(values.data(), src, v, dst, dim);
                }
            }
            sequences[b] = pool.newSequence(1, heads);
            sequences[b].append(0, k, v, length);
        }
        return sequences;
    }

    private static void requireBlockSize(int blockSize) {
        if (blockSize < 1 || blockSize > 4096) throw new IllegalArgumentException("blockSize must be in [1, 4096], got " + blockSize);
    }

    private static void requireGqa(int queryHeads, int kvHeads) {
        if (queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads (" + queryHeads + ") must be a multiple of kvHeads (" + kvHeads + ") for GQA");
        }
    }
}
