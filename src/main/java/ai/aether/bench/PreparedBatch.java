package ai.aether.bench;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.AetherKvPool;
import ai.aether.attention.BlockSelector;
import ai.aether.attention.EventRadar;
import ai.aether.attention.SequenceKvCache;
import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.AttentionBackend;
import ai.aether.kernels.attention.DecodePlan;

import java.util.List;

/**
 * A batch of snapshots loaded into one AETHER pool (blocked KV + metadata, the engine's own
 * storage) with their float64 dense references: what every method of one sparsity level is
 * measured against. Snapshots are rounded to the KV dtype first, so the reference attends to
 * exactly the values the kernel reads.
 */
final class PreparedBatch {

    private static final int APPEND_CHUNK = 1024;  // tokens per append, bounds the transposed copy

    final List<KvSnapshot> snapshots;
    final int batch;
    final int kvHeads;
    final int queryHeads;
    final int headDim;
    final int tokens;
    final int blocks;
    final int group;
    final AetherKvPool pool;
    final SequenceKvCache[] caches;    // [batch] one layer each
    final HeadReference[][] references; // [batch][queryHeads]
    final float[] queries;             // [batch][queryHeads][headDim]

    PreparedBatch(List<KvSnapshot> rawSnapshots, AetherConfig config) {
        this.snapshots = config.kvDtype() == ai.aether.kernels.attention.KvDtype.FP32 ? List.copyOf(rawSnapshots)
                : rawSnapshots.stream().map(s -> s.stored(config.kvDtype())).toList();
        KvSnapshot first = snapshots.getFirst();
        this.batch = snapshots.size();
        this.kvHeads = first.kvHeads();
        this.queryHeads = first.queryHeads();
        this.headDim = first.headDim();
        this.tokens = first.tokens();
        this.group = first.groupSize();
        this.blocks = HeadReference.blockCount(tokens, config.blockSize());
        this.pool = AetherKvPool.forConfig(config, headDim, batch * kvHeads * blocks);
        this.caches = new SequenceKvCache[batch];
        this.references = new HeadReference[batch][queryHeads];
        this.queries = new float[batch * queryHeads * headDim];
        for (int b = 0; b < batch; b++) {
            KvSnapshot s = snapshots.get(b);
            caches[b] = pool.newSequence(1, kvHeads);
            append(caches[b], s);
            System.arraycopy(s.queries(), 0, queries, b * queryHeads * headDim, queryHeads * headDim);
            HeadReference[] refs = references[b];
            Parallel.forEach(queryHeads, h -> refs[h] = HeadReference.compute(s, h, config.blockSize()));
        }
    }

    /** Appends a snapshot's [kvHeads][tokens][headDim] cache through the engine's [tokens][kvHeads][headDim] API. */
    private void append(SequenceKvCache cache, KvSnapshot s) {
        float[] keys = new float[APPEND_CHUNK * kvHeads * headDim];    // [chunk][kvHeads][headDim]
        float[] values = new float[APPEND_CHUNK * kvHeads * headDim];  // [chunk][kvHeads][headDim]
        for (int start = 0; start < tokens; start += APPEND_CHUNK) {
            int n = Math.min(APPEND_CHUNK, tokens - start);
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < kvHeads; h++) {
                    System.arraycopy(s.keys(), s.kvOffset(h, start + t), keys, (t * kvHeads + h) * headDim, headDim);
                    System.arraycopy(s.values(), s.kvOffset(h, start + t), values, (t * kvHeads + h) * headDim, headDim);
                }
            }
            cache.append(0, keys, values, n);
        }
    }

    /** Lists, one per (sequence, KV head): index {@code b * kvHeads + h}. */
    int lists() {
        return batch * kvHeads;
    }

    /** Tokens of block {@code blk} (the last may be partial). */
    int tokensInBlock(int blk) {
        return Math.min(pool.blockSize(), tokens - blk * pool.blockSize());
    }

    /** K+V bytes of one block of one head. */
    long blockKvBytes(int blk) {
        return pool.blocks().kvBytes(tokensInBlock(blk));
    }

    /** K+V bytes of every block of every head: what dense attention reads. */
    long denseKvBytes() {
        return (long) lists() * pool.blocks().kvBytes(tokens);
    }

    /** Metadata bytes per scored block of a radar. */
    long metadataBytesPerBlock(EventRadar radar) {
        return radar.metadataBytesPerBlock(pool.metadata());
    }

    /** Runs {@code selectors[l]} for every list in parallel; {@code keep[l]} receives the kept blocks. */
    BlockSelector.Outcome[] select(BlockSelector[] selectors, boolean[][] keep) {
        BlockSelector.Outcome[] outcomes = new BlockSelector.Outcome[lists()];
        Parallel.forEach(lists(), l -> {
            int b = l / kvHeads, h = l % kvHeads;
            outcomes[l] = selectors[l].select(pool, caches[b].blockIdsView(0, h), blocks, tokens, queries,
                    (b * queryHeads + h * group) * headDim, group, false, keep[l], null);
        });
        return outcomes;
    }

    /** Fills {@code plan} with the kept blocks, schedules it and runs the decode kernel into {@code out}. */
    void attend(AttentionBackend backend, DecodePlan plan, boolean[][] keep, float[] out) {
        for (int b = 0; b < batch; b++) {
            plan.setSequenceLength(b, tokens);
            for (int h = 0; h < kvHeads; h++) {
                plan.clearList(b, h);
                boolean[] k = keep[b * kvHeads + h];
                for (int blk = 0; blk < blocks; blk++) {
                    if (k[blk]) plan.addBlock(b, h, caches[b].blockId(0, h, blk), blk);
                }
            }
        }
        backend.plan(plan, pool.blocks());
        backend.decode(pool.blocks(), plan, queries, out);
    }

    DecodePlan newPlan() {
        return new DecodePlan(batch, queryHeads, kvHeads, headDim, false);
    }

    /** The selection of list {@code l}'s snapshot as a {@link BlockSelection}. */
    BlockSelection selectionOf(boolean[][] keep, int b) {
        BlockSelection s = new BlockSelection(kvHeads, blocks);
        for (int h = 0; h < kvHeads; h++) {
            boolean[] k = keep[b * kvHeads + h];
            for (int blk = 0; blk < blocks; blk++) if (k[blk]) s.keep(h, blk);
        }
        return s;
    }

    /** Copies a per-snapshot selection into the per-list keep arrays. */
    void copyInto(BlockSelection selection, int b, boolean[][] keep) {
        for (int h = 0; h < kvHeads; h++) {
            for (int blk = 0; blk < blocks; blk++) keep[b * kvHeads + h][blk] = selection.isKept(h, blk);
        }
    }
}
