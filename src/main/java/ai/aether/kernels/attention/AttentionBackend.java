package ai.aether.kernels.attention;

import java.util.ServiceLoader;

/**
 * Block-sparse attention over a {@link KvBlockPool}, shaped like FlashInfer's
 * BlockSparseAttentionWrapper so that a CUDA backend can implement it too: the caller fills a
 * {@link DecodePlan} with the kept blocks, {@link #plan} builds the work schedule into it, and
 * {@link #decode} runs the attention. Dense attention is the same call with every block kept.
 *
 * <p>The pool's storage type is part of the contract ({@link KvDtype}; the block layout and, for
 * INT8, the per-token key and value scales are described in {@link KvBlockPool}): a backend that
 * cannot read one rejects it in {@link #plan}, naming the dtype, rather than computing on it.
 *
 * <p>Example (one sequence, every block kept, i.e. dense):
 * <pre>{@code
 * AttentionBackend backend = AttentionBackend.load();
 * DecodePlan plan = new DecodePlan(1, queryHeads, kvHeads, headDim, false);
 * plan.setSequenceLength(0, tokens);
 * for (int h = 0; h < kvHeads; h++)
 *     for (int blk = 0; blk < blockTable[h].length; blk++) plan.addBlock(0, h, blockTable[h][blk], blk);
 * backend.plan(plan, pool);
 * backend.decode(pool, plan, queries, out);   // queries, out: [1][queryHeads][headDim]
 * }</pre>
 */
public interface AttentionBackend {

    /** Short name, e.g. "cpu-vector". */
    String name();

    /**
     * Builds the work schedule for the blocks now in {@code plan} (splitting long lists over
     * threads when there are few of them). Call after the lists change, before {@link #decode}.
     */
    void plan(DecodePlan plan, KvBlockPool pool);

    /**
     * Decode attention: each query head attends, with an exact fp32 online softmax, to the
     * tokens of the kept blocks of its list (positions below the sequence length).
     *
     * @param queries {@code [batch][queryHeads][headDim]}, post-RoPE, unscaled (the kernel applies 1/sqrt(headDim))
     * @param out     {@code [batch][queryHeads][headDim]}, overwritten
     */
    void decode(KvBlockPool pool, DecodePlan plan, float[] queries, float[] out);

    /** Causal multi-query attention for a run of new tokens already appended to the cache (prefill). */
    void prefill(KvBlockPool pool, PrefillRequest request);

    /** The first backend registered through {@link ServiceLoader}, else the CPU backend. */
    static AttentionBackend load() {
        return ServiceLoader.load(AttentionBackend.class).findFirst().orElseGet(CpuAttentionBackend::new);
    }

    /** The Vector API CPU backend. */
    static AttentionBackend cpu() {
        return new CpuAttentionBackend();
    }
}
