package ai.aether.kernels.attention;

import ai.aether.kernels.Parallel;

/**
 * Vector API CPU implementation of {@link AttentionBackend}. Decode work is split into units of
 * (list, run of kept blocks) of about equal size, about eight per thread; a list split over
 * several units has its partial softmax states merged with a log-sum-exp (flash-decoding), so
 * two threads stay busy even with 3 KV heads or uneven selections.
 */
public final class CpuAttentionBackend implements AttentionBackend {

    /** Query tokens per prefill tile: about 48 rows, so each key block is read once per 48 query rows. */
    private static final int PREFILL_TILE_ROWS = 48;

    public CpuAttentionBackend() {}

    @Override
    public String name() {
        return "cpu-vector";
    }

    // ---------------------------------------------------------------- decode

    @Override
    public void plan(DecodePlan plan, KvBlockPool pool) {
        checkPool(plan, pool);
        int lists = plan.batch * plan.listsPerSequence;
        long totalKept = 0;
        for (int l = 0; l < lists; l++) {
            int b = l / plan.listsPerSequence;
            if (plan.sequenceLength[b] < 1) {
                throw new IllegalStateException("sequence " + b + " has no tokens: attention over an empty cache");
            }
            if (plan.keptCount[l] == 0) {
                throw new IllegalStateException("list " + (l % plan.listsPerSequence) + " of sequence " + b + " keeps no block");
            }
            totalKept += plan.keptCount[l];
        }
        // Units of about equal block counts, ~8 per thread, so contiguous chunks of units balance
        // even when lists keep different numbers of blocks or there are fewer lists than threads.
        int threads = Parallel.threads();
        long unitBlocks = threads == 1 ? Long.MAX_VALUE : Math.max(1, (totalKept + 8L * threads - 1) / (8L * threads));
        int units = 0;
        int[] splits = new int[lists];
        for (int l = 0; l < lists; l++) {
            splits[l] = (int) Math.max(1, Math.min(plan.keptCount[l], (plan.keptCount[l] + unitBlocks - 1) / unitBlocks));
            units += splits[l];
        }
        if (plan.unitList.length < units) {
            plan.unitList = new int[units];
            plan.unitFrom = new int[units];
            plan.unitTo = new int[units];
        }
        if (plan.firstUnitOfList.length < lists + 1) plan.firstUnitOfList = new int[lists + 1];
        int u = 0;
        for (int l = 0; l < lists; l++) {
            plan.firstUnitOfList[l] = u;
            int n = plan.keptCount[l];
            for (int s = 0; s < splits[l]; s++, u++) {
                plan.unitList[u] = l;
                plan.unitFrom[u] = (int) ((long) n * s / splits[l]);
                plan.unitTo[u] = (int) ((long) n * (s + 1) / splits[l]);
            }
        }
        plan.firstUnitOfList[lists] = u;
        plan.unitCount = units;
        int rows = plan.rowsPerList;
        if (plan.unitMax.length < units * rows) {
            plan.unitMax = new float[units * rows];
            plan.unitSum = new float[units * rows];
        }
        if (plan.unitAcc.length < units * rows * pool.valueStride()) plan.unitAcc = new float[units * rows * pool.valueStride()];
        plan.planned = true;
    }

    @Override
    public void decode(KvBlockPool pool, DecodePlan plan, float[] queries, float[] out) {
        if (!plan.planned) throw new IllegalStateException("decode plan changed since plan(): call plan(plan, pool) first");
        checkPool(plan, pool);
        int expected = plan.batch * plan.queryHeads * plan.headDim;
        requireLength("queries", queries, expected, "[batch][queryHeads][headDim]");
        requireLength("out", out, expected, "[batch][queryHeads][headDim]");
        requireFinite("queries", queries);
        for (int l = 0; l < plan.batch * plan.listsPerSequence; l++) checkList(plan, pool, l);
        Parallel.forRange(plan.unitCount, (from, to) -> {
            for (int u = from; u < to; u++) runUnit(pool, plan, queries, u);
        });
        mergeUnits(pool, plan, out);
    }

    private static void runUnit(KvBlockPool pool, DecodePlan plan, float[] queries, int unit) {
        int list = plan.unitList[unit];
        int b = list / plan.listsPerSequence, listInSequence = list % plan.listsPerSequence;
        int rows = plan.rowsPerList, headDim = plan.headDim, blockSize = pool.blockSize();
        int firstHead = listInSequence * rows;
        BlockAttentionKernel.Scratch s = BlockAttentionKernel.scratch(pool, rows);
        for (int r = 0; r < rows; r++) s.rowOffsets[r] = (b * plan.queryHeads + firstHead + r) * headDim;
        BlockAttentionKernel.loadQueries(pool, s, queries, s.rowOffsets, rows);
        int valueStride = pool.valueStride();
        BlockAttentionKernel.initState(plan.unitMax, unit * rows, plan.unitSum, unit * rows, plan.unitAcc,
                unit * rows * valueStride, rows, valueStride);
        int length = plan.sequenceLength[b];
        int[] ids = plan.blockIds[list], logical = plan.logicalBlocks[list];
        float[][] logits = plan.logitSource[list];
        for (int i = plan.unitFrom[unit]; i < plan.unitTo[unit]; i++) {
            int start = logical[i] * blockSize;
            if (logits[i] != null) {  // the selection's rerank computed them: read the values only
                BlockAttentionKernel.attendBlockWithLogits(pool, ids[i], logits[i], plan.logitOffset[list][i], s, rows,
                        plan.unitMax, unit * rows, plan.unitSum, unit * rows, plan.unitAcc, unit * rows * valueStride);
                continue;
            }
            BlockAttentionKernel.attendBlock(pool, ids[i], start, Math.min(blockSize, length - start), s, rows, null,
                    plan.unitMax, unit * rows, plan.unitSum, unit * rows, plan.unitAcc, unit * rows * valueStride);
        }
    }

    /** out = sum_u exp(m_u - M) acc_u / sum_u exp(m_u - M) l_u over the units of each list. */
    private static void mergeUnits(KvBlockPool pool, DecodePlan plan, float[] out) {
        int rows = plan.rowsPerList, headDim = plan.headDim, valueStride = pool.valueStride();
        for (int l = 0; l < plan.batch * plan.listsPerSequence; l++) {
            int b = l / plan.listsPerSequence, firstHead = (l % plan.listsPerSequence) * rows;
            int firstUnit = plan.firstUnitOfList[l], endUnit = plan.firstUnitOfList[l + 1];
            for (int r = 0; r < rows; r++) {
                float globalMax = Float.NEGATIVE_INFINITY;
                for (int u = firstUnit; u < endUnit; u++) globalMax = Math.max(globalMax, plan.unitMax[u * rows + r]);
                int dst = (b * plan.queryHeads + firstHead + r) * headDim;
                float total = 0f;
                java.util.Arrays.fill(out, dst, dst + headDim, 0f);
                for (int u = firstUnit; u < endUnit; u++) {
                    float m = plan.unitMax[u * rows + r];
                    if (m == Float.NEGATIVE_INFINITY) continue;
                    float w = (float) Math.exp(m - globalMax);
                    total += w * plan.unitSum[u * rows + r];
                    int src = (u * rows + r) * valueStride;
                    for (int d = 0; d < headDim; d++) out[dst + d] += w * plan.unitAcc[src + d];
                }
                float inv = 1f / total;
                for (int d = 0; d < headDim; d++) out[dst + d] *= inv;
            }
        }
    }

    private static void checkList(DecodePlan plan, KvBlockPool pool, int list) {
        int b = list / plan.listsPerSequence;
        int blocks = (plan.sequenceLength[b] + pool.blockSize() - 1) / pool.blockSize();
        for (int i = 0; i < plan.keptCount[list]; i++) {
            int logical = plan.logicalBlocks[list][i];
            if (logical < 0 || logical >= blocks) {
                throw new IllegalArgumentException("sequence " + b + ": kept block index " + logical + " outside [0, " + blocks
                        + ") for length " + plan.sequenceLength[b]);
            }
            float[] logits = plan.logitSource[list][i];
            if (logits != null && ((logical + 1L) * pool.blockSize() > plan.sequenceLength[b]
                    || plan.logitOffset[list][i] < 0 || plan.logitOffset[list][i] + (long) plan.rowsPerList * pool.blockSize() > logits.length)) {
                throw new IllegalArgumentException("sequence " + b + ": kept block " + logical + " comes with logits, but it is not full or its "
                        + plan.rowsPerList + " x " + pool.blockSize() + " logits at offset " + plan.logitOffset[list][i] + " overrun "
                        + logits.length + " floats");
            }
        }
    }

    private static void checkPool(DecodePlan plan, KvBlockPool pool) {
        if (pool.headDim() != plan.headDim) {
            throw new IllegalArgumentException("plan headDim " + plan.headDim + " differs from the pool's headDim " + pool.headDim());
        }
    }

    // ---------------------------------------------------------------- prefill

    @Override
    public void prefill(KvBlockPool pool, PrefillRequest request) {
        int kvHeads = request.kvHeads(), queryHeads = request.queryHeads(), headDim = pool.headDim();
        int group = queryHeads / kvHeads, blockSize = pool.blockSize();
        int tokens = request.tokenCount(), end = request.firstPosition() + tokens;
        requireLength("queries", request.queries(), tokens * queryHeads * headDim, "[tokenCount][queryHeads][headDim]");
        requireLength("out", request.out(), tokens * queryHeads * headDim, "[tokenCount][queryHeads][headDim]");
        requireFinite("queries", request.queries());
        for (int h = 0; h < kvHeads; h++) {
            if ((long) request.blockTable()[h].length * blockSize < end) {
                throw new IllegalArgumentException("blockTable[" + h + "] holds " + request.blockTable()[h].length + " blocks of "
                        + blockSize + " tokens, fewer than the " + end + " positions the prefill needs");
            }
        }
        int tileTokens = Math.max(1, PREFILL_TILE_ROWS / group);
        int tiles = (tokens + tileTokens - 1) / tileTokens;
        int units = kvHeads * tiles;
        // Later tiles see more blocks: interleave early and late tiles so contiguous chunks balance.
        Parallel.forRange(units, (from, to) -> {
            for (int u = from; u < to; u++) {
                int head = u % kvHeads, order = u / kvHeads;
                int tile = (order & 1) == 0 ? order / 2 : tiles - 1 - order / 2;
                prefillTile(pool, request, head, tile * tileTokens, Math.min(tokens, (tile + 1) * tileTokens), group);
            }
        });
    }

    private static void prefillTile(KvBlockPool pool, PrefillRequest request, int kvHead, int fromToken, int toToken, int group) {
        int headDim = pool.headDim(), queryHeads = request.queryHeads(), blockSize = pool.blockSize();
        int valueStride = pool.valueStride();
        int rows = (toToken - fromToken) * group;
        BlockAttentionKernel.Scratch s = BlockAttentionKernel.scratch(pool, rows);
        int[] rowLimit = new int[rows];
        float[] max = new float[rows], sum = new float[rows];
        float[] acc = new float[rows * valueStride];  // [rows][valueStride]
        for (int i = fromToken; i < toToken; i++) {
            for (int j = 0; j < group; j++) {
                int r = (i - fromToken) * group + j;
                s.rowOffsets[r] = (i * queryHeads + kvHead * group + j) * headDim;
                rowLimit[r] = request.firstPosition() + i;
            }
        }
        BlockAttentionKernel.loadQueries(pool, s, request.queries(), s.rowOffsets, rows);
        BlockAttentionKernel.initState(max, 0, sum, 0, acc, 0, rows, valueStride);
        int end = request.firstPosition() + toToken;
        int[] table = request.blockTable()[kvHead];
        for (int blk = 0; blk * blockSize < end; blk++) {
            int start = blk * blockSize;
            BlockAttentionKernel.attendBlock(pool, table[blk], start, Math.min(blockSize, end - start), s, rows, rowLimit,
                    max, 0, sum, 0, acc, 0);
        }
        float[] out = request.out();
        for (int i = fromToken; i < toToken; i++) {
            for (int j = 0; j < group; j++) {
                int r = (i - fromToken) * group + j;
                int dst = (i * queryHeads + kvHead * group + j) * headDim;
                float inv = 1f / sum[r];
                for (int d = 0; d < headDim; d++) out[dst + d] = acc[r * valueStride + d] * inv;
            }
        }
    }

    // ---------------------------------------------------------------- checks

    private static void requireLength(String name, float[] array, long expected, String shape) {
        if (array == null) throw new IllegalArgumentException(name + " must be a float array of shape " + shape + ", got null");
        if (array.length != expected) {
            throw new IllegalArgumentException(name + " has " + array.length + " floats, expected " + expected + " for shape " + shape);
        }
    }

    private static void requireFinite(String name, float[] array) {
        for (int i = 0; i < array.length; i++) {
            if (!Float.isFinite(array[i])) throw new IllegalArgumentException(name + "[" + i + "] is " + array[i] + "; values must be finite");
        }
    }
}
