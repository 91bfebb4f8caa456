package ai.aether.attention;

import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.AttentionBackend;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.ExactBlockMass;
import ai.aether.kernels.attention.KvBlockPool;
import ai.aether.kernels.attention.PrefillRequest;

/**
 * AETHER attention for one model shape: per layer and decode step, the event radar scores the
 * blocks, selection fills a {@link DecodePlan}, the backend plans and runs it. Holds the plan
 * (the caller-owned workspace) and one selector per list, so one instance serves one engine
 * thread; it is not thread-safe.
 *
 * <pre>{@code
 * AetherAttention attention = new AetherAttention(config, queryHeads, kvHeads, headDim);
 * AttentionStats stats = new AttentionStats();
 * attention.decode(layer, new SequenceKvCache[] {cache}, queries, out, stats);  // [1][queryHeads][headDim]
 * }</pre>
 */
public final class AetherAttention {

    private final AetherConfig config;
    private final int queryHeads;
    private final int kvHeads;
    private final int headDim;
    private final AttentionBackend backend;
    private BlockSelector[] selectors = new BlockSelector[0];  // [lists] one per list: a deferred rerank keeps its state there
    private DecodePlan plan;
    private boolean[][] keepScratch = new boolean[0][];  // [lists][blocks]
    private BlockSelector.Outcome[] outcomes = new BlockSelector.Outcome[0];
    private boolean[] reused = new boolean[0];  // [lists] this layer decodes the list with its remembered selection
    private int[] reuseScratch = new int[0];     // [blocks] block indices of one list

    public AetherAttention(AetherConfig config, int queryHeads, int kvHeads, int headDim) {
        this(config, queryHeads, kvHeads, headDim, AttentionBackend.load());
    }

    public AetherAttention(AetherConfig config, int queryHeads, int kvHeads, int headDim, AttentionBackend backend) {
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (kvHeads < 1) throw new IllegalArgumentException("kvHeads must be >= 1, got " + kvHeads);
        if (queryHeads < 1 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads (" + queryHeads + ") must be a positive multiple of kvHeads (" + kvHeads + ") for GQA");
        }
        if (headDim < 1) throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
        this.config = config;
        this.queryHeads = queryHeads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.backend = backend;
    }

    public AetherConfig config() { return config; }
    public AttentionBackend backend() { return backend; }

    /**
     * One decode step of one layer for a batch of sequences: radar, selection, attention.
     *
     * @param sequences the caches (all from one pool), each holding at least one token in {@code layer}
     * @param queries   {@code [batch][queryHeads][headDim]} post-RoPE queries of the newest tokens
     * @param out       {@code [batch][queryHeads][headDim]} attention outputs
     * @param stats     counters to add to, or null
     */
    public void decode(int layer, SequenceKvCache[] sequences, float[] queries, float[] out, AttentionStats stats) {
        if (sequences == null || sequences.length == 0) throw new IllegalArgumentException("decode needs at least one sequence");
        AetherKvPool pool = sequences[0].pool();
        checkShapes(pool, sequences, layer);
        long expected = (long) sequences.length * queryHeads * headDim;
        if (queries == null || queries.length != expected) {
            throw new IllegalArgumentException("queries must be [batch=" + sequences.length + "][queryHeads=" + queryHeads + "][headDim="
                    + headDim + "] = " + expected + " floats, got " + (queries == null ? "null" : queries.length));
        }
        for (int i = 0; i < queries.length; i++) {
            if (!Float.isFinite(queries[i])) throw new IllegalArgumentException("queries[" + i + "] is " + queries[i] + "; queries must be finite");
        }
        long t0 = System.nanoTime();
        long rerankNanos = selectInto(layer, sequences, queries, stats);
        long t1 = System.nanoTime();
        backend.plan(plan, pool.blocks());
        backend.decode(pool.blocks(), plan, queries, out);
        if (stats != null) stats.addTimes(t1 - t0, rerankNanos, System.nanoTime() - t1);
    }

    /** Single-sequence convenience for {@link #decode(int, SequenceKvCache[], float[], float[], AttentionStats)}. */
    public void decode(int layer, SequenceKvCache sequence, float[] queries, float[] out, AttentionStats stats) {
        decode(layer, new SequenceKvCache[] {sequence}, queries, out, stats);
    }

    /** The plan of the last decode call (kept blocks per list), for inspection. */
    public DecodePlan lastPlan() { return plan; }

    /**
     * Radar and selection alone (what {@link #decode} does before attending): fills and returns the
     * plan, without planning or running the attention. For benchmarks and for inspecting choices.
     */
    public DecodePlan select(int layer, SequenceKvCache[] sequences, float[] queries, AttentionStats stats) {
        if (sequences == null || sequences.length == 0) throw new IllegalArgumentException("selection needs at least one sequence");
        checkShapes(sequences[0].pool(), sequences, layer);
        selectInto(layer, sequences, queries, stats);
        return plan;
    }

    /** Fills {@link #plan} for {@code layer}; returns the nanoseconds its reranks spent reading keys. */
    private long selectInto(int layer, SequenceKvCache[] sequences, float[] queries, AttentionStats stats) {
        int batch = sequences.length;
        boolean perQueryHead = config.gqaPolicy() == GqaPolicy.PER_QUERY_HEAD;
        if (plan == null || plan.batch() != batch) plan = new DecodePlan(batch, queryHeads, kvHeads, headDim, perQueryHead);
        int listsPerSequence = plan.listsPerSequence(), rows = plan.rowsPerList(), lists = batch * listsPerSequence;
        if (keepScratch.length < lists) {
            keepScratch = new boolean[lists][];
            outcomes = new BlockSelector.Outcome[lists];
        }
        if (selectors.length < lists) {
            BlockSelector[] grown = java.util.Arrays.copyOf(selectors, lists);
            for (int l = selectors.length; l < lists; l++) {
                grown[l] = new BlockSelector(config);
                grown[l].deferRerank(true);
            }
            selectors = grown;
        }
        boolean denseLayer = config.isDenseLayer(layer);
        if (reused.length < lists) reused = new boolean[lists];
        boolean anyFresh = false;
        for (int l = 0; l < lists; l++) {
            int b = l / listsPerSequence, list = l % listsPerSequence;
            // A rerank layer selects at every step: it is one where the block order matters most (reusing there cost
            // 7-11x the perplexity of reusing in all the other layers together, docs/benchmarks-e2e.md). CERTIFIED's
            // bound holds for the query it was computed for only.
            reused[l] = config.selection() != SelectionMode.CERTIFIED && !sequences[b].reranks(config, layer)
                    && sequences[b].canReuseSelection(layer, listsPerSequence, list, config.reselectInterval());
            anyFresh |= !reused[l];
        }
        // 1. Radar and ranking per list; a rerank stops at its shortlist. Lists reusing their selection skip it.
        if (anyFresh) Parallel.forEach(lists, l -> {
            int b = l / listsPerSequence, list = l % listsPerSequence;
            if (reused[l]) return;
            SequenceKvCache cache = sequences[b];
            int count = cache.blockCount(layer), kvHead = plan.kvHeadOfList(list);
            if (keepScratch[l] == null || keepScratch[l].length < count) keepScratch[l] = new boolean[Math.max(count, 16) * 2];
            outcomes[l] = selectors[l].select(cache.pool(), cache.blockIdsView(layer, kvHead), count, cache.length(layer), queries,
                    (b * queryHeads + list * rows) * headDim, rows, denseLayer, cache.budgetScale(layer), cache.reranks(config, layer),
                    keepScratch[l], null);
        });
        // 2. The reranks' key reads, all lists' candidates shared out evenly (3 KV heads on 2 threads
        //    would otherwise leave one thread with twice the reads), then each list's final choice.
        long rerankNanos = rerank(layer, sequences, queries, lists);
        for (int l = 0; l < lists; l++) {
            int b = l / listsPerSequence, list = l % listsPerSequence;
            SequenceKvCache cache = sequences[b];
            int count = cache.blockCount(layer);
            int[] ids = cache.blockIdsView(layer, plan.kvHeadOfList(list));
            plan.clearList(b, list);
            if (reused[l]) {
                if (reuseScratch.length < count) reuseScratch = new int[count * 2];
                int kept = cache.reusedSelection(layer, list, reuseScratch);
                for (int i = 0; i < kept; i++) plan.addBlock(b, list, ids[reuseScratch[i]], reuseScratch[i]);
                outcomes[l] = new BlockSelector.Outcome(count, kept, 0, 0, Double.NaN);
                continue;
            }
            BlockSelector selector = selectors[l];
            boolean reranked = selector.rerankPending();
            if (reranked) outcomes[l] = selector.finishRerank(keepScratch[l]);
            boolean[] keep = keepScratch[l];
            // A kept block the rerank read comes with its logits: the attention reads its values only.
            int[] candidates = selector.rerankCandidates();
            int candidateCount = reranked ? selector.rerankCandidateCount() : 0, j = 0, logitsPerBlock = rows * cache.pool().blockSize();
            for (int i = 0; i < count; i++) {
                while (j < candidateCount && candidates[j] < i) j++;
                if (!keep[i]) continue;
                if (j < candidateCount && candidates[j] == i) plan.addBlock(b, list, ids[i], i, selector.rerankLogits(), j * logitsPerBlock);
                else plan.addBlock(b, list, ids[i], i);
            }
            if (config.reselectInterval() > 1) {
                int kept = plan.keptCount(b, list);
                if (reuseScratch.length < kept) reuseScratch = new int[kept * 2];
                for (int i = 0; i < kept; i++) reuseScratch[i] = plan.keptLogicalBlock(b, list, i);
                cache.rememberSelection(layer, listsPerSequence, list, reuseScratch, kept);
            }
        }
        KvBlockPool blocks = sequences[0].pool().blocks();
        long metadataBytesPerBlock = selectors[0].radar().metadataBytesPerBlock(sequences[0].pool().metadata());
        for (int b = 0; b < batch; b++) plan.setSequenceLength(b, sequences[b].length(layer));
        if (stats == null) return rerankNanos;
        for (int l = 0; l < lists; l++) {
            int b = l / listsPerSequence, list = l % listsPerSequence;
            int length = sequences[b].length(layer), keptTokens = 0, handedOver = 0;
            for (int i = 0; i < plan.keptCount(b, list); i++) {
                int start = plan.keptLogicalBlock(b, list, i) * blocks.blockSize();
                keptTokens += Math.min(blocks.blockSize(), length - start);
                if (plan.hasLogits(b, list, i)) handedOver += blocks.blockSize();
            }
            BlockSelector.Outcome o = outcomes[l];
            stats.countSelection(reused[l]);
            // Blocks whose logits the rerank handed over cost their values only (their keys are in the rerank's reads).
            stats.add(o.blocks(), o.kept(), blocks.kvBytes(keptTokens) - blocks.kvBytes(handedOver) / 2, blocks.kvBytes(length),
                    o.scored() * metadataBytesPerBlock, blocks.kvBytes((long) o.reranked() * blocks.blockSize()) / 2, o.certifiedDroppedMass());
        }
        return rerankNanos;
    }

    private int[] rerankStarts = new int[0];  // [lists + 1] where each list's candidates start in the shared range

    /** Exact masses of every pending rerank's candidates, split over the kernel threads as one range; returns the nanoseconds taken (0: none pending). */
    private long rerank(int layer, SequenceKvCache[] sequences, float[] queries, int lists) {
        long t0 = System.nanoTime();
        if (rerankStarts.length < lists + 1) rerankStarts = new int[lists + 1];
        int total = 0;
        for (int l = 0; l < lists; l++) {
            rerankStarts[l] = total;
            if (!reused[l] && selectors[l].rerankPending()) total += selectors[l].rerankCandidateCount();
        }
        rerankStarts[lists] = total;
        if (total == 0) return 0;
        int listsPerSequence = plan.listsPerSequence(), rows = plan.rowsPerList();
        KvBlockPool blocks = sequences[0].pool().blocks();
        Parallel.forRange(total, (from, to) -> {
            for (int l = 0; l < lists; l++) {
                int start = rerankStarts[l], end = rerankStarts[l + 1];
                if (end <= from || start >= to) continue;
                int b = l / listsPerSequence, list = l % listsPerSequence;
                SequenceKvCache cache = sequences[b];
                BlockSelector selector = selectors[l];
                ExactBlockMass.logMasses(blocks, queries, (b * queryHeads + list * rows) * headDim, rows,
                        cache.blockIdsView(layer, plan.kvHeadOfList(list)), selector.rerankCandidates(),
                        Math.max(from, start) - start, Math.min(to, end) - start, selector.rerankScores(), cache.blockCount(layer),
                        selector.rerankLogits());
            }
        });
        return System.nanoTime() - t0;
    }

    /**
     * Causal attention for {@code tokens} new tokens of one sequence, already appended to the
     * cache at positions {@code firstPosition ..}: every token attends densely to all positions up
     * to its own (prefill is dense; AETHER's selection applies to decode).
     *
     * @param queries {@code [tokens][queryHeads][headDim]}
     * @param out     {@code [tokens][queryHeads][headDim]}
     */
    public void prefill(int layer, SequenceKvCache sequence, int firstPosition, int tokens, float[] queries, float[] out) {
        checkShapes(sequence.pool(), new SequenceKvCache[] {sequence}, layer);
        if (firstPosition < 0 || tokens < 1 || firstPosition + tokens > sequence.length(layer)) {
            throw new IllegalArgumentException("prefill of tokens [" + firstPosition + ", " + (firstPosition + tokens)
                    + ") needs them in the cache, which holds " + sequence.length(layer) + " tokens in layer " + layer);
        }
        backend.prefill(sequence.pool().blocks(),
                new PrefillRequest(sequence.blockTable(layer), firstPosition, tokens, queryHeads, queries, out));
    }

    private void checkShapes(AetherKvPool pool, SequenceKvCache[] sequences, int layer) {
        if (pool.headDim() != headDim) {
            throw new IllegalArgumentException("cache headDim " + pool.headDim() + " differs from the attention's headDim " + headDim);
        }
        for (int b = 0; b < sequences.length; b++) {
            SequenceKvCache s = sequences[b];
            if (s.pool() != pool) throw new IllegalArgumentException("sequence " + b + " uses a different pool than sequence 0");
            if (s.kvHeads() != kvHeads) {
                throw new IllegalArgumentException("sequence " + b + " has " + s.kvHeads() + " KV heads, the attention expects " + kvHeads);
            }
            if (s.length(layer) == 0) throw new IllegalArgumentException("sequence " + b + " has an empty cache in layer " + layer);
        }
    }
}
