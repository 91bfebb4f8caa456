package ai.aether.kernels.attention;

import java.util.Arrays;

/**
 * Which KV blocks one decode call visits, and (after {@link AttentionBackend#plan}) how the
 * work is split over threads. Caller-owned and reusable across steps and layers, like the
 * workspace of FlashInfer's BlockSparseAttentionWrapper: fill it (the radar and selection do),
 * plan it, then run it.
 *
 * <p>A <em>list</em> is the set of kept blocks shared by a group of query heads: one list per
 * (sequence, KV head) when the whole GQA group shares a selection, or one per (sequence, query
 * head) when each query head selects on its own. List {@code l} of sequence {@code b} serves
 * query heads {@code [l*rowsPerList, (l+1)*rowsPerList)} and reads KV head
 * {@code l*rowsPerList / groupSize}.
 *
 * <p>A kept block may come with its logits already computed ({@link #addBlock(int, int, int, int,
 * float[], int)}): a selection that ranked candidates by their exact mass has them. A backend may
 * use them instead of reading the block's keys again (the CPU backend does; they are the logits its
 * own kernel computes, so the output is the same bit for bit) or ignore them.
 */
public final class DecodePlan {

    final int batch;
    final int queryHeads;
    final int kvHeads;
    final int headDim;
    final int listsPerSequence;
    final int rowsPerList;

    final int[] sequenceLength;       // [batch] tokens in the cache of each sequence
    final int[][] blockIds;           // [batch * listsPerSequence][capacity] physical ids, ascending position
    final int[][] logicalBlocks;      // [batch * listsPerSequence][capacity] block index within the sequence
    final int[] keptCount;            // [batch * listsPerSequence]
    final float[][][] logitSource;    // [batch * listsPerSequence][capacity] a kept block's precomputed logits, or null
    final int[][] logitOffset;        // [batch * listsPerSequence][capacity] where they start: [rowsPerList][blockSize] floats

    // Schedule, filled by the backend's plan(): unit u covers kept blocks [unitFrom, unitTo) of list unitList.
    int unitCount;
    int[] unitList = new int[0];
    int[] unitFrom = new int[0];
    int[] unitTo = new int[0];
    int[] firstUnitOfList = new int[0];  // [lists + 1]
    boolean planned;

    // Partial online-softmax state per unit, merged after the run (flash-decoding).
    float[] unitMax = new float[0];  // [units][rowsPerList]
    float[] unitSum = new float[0];  // [units][rowsPerList]
    float[] unitAcc = new float[0];  // [units][rowsPerList][valueStride]

    /**
     * @param perQueryHead true: one list per query head; false: one list per KV head (GQA shared)
     */
    public DecodePlan(int batch, int queryHeads, int kvHeads, int headDim, boolean perQueryHead) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (kvHeads < 1) throw new IllegalArgumentException("kvHeads must be >= 1, got " + kvHeads);
        if (queryHeads < 1 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads must be a positive multiple of kvHeads (" + kvHeads + "), got " + queryHeads);
        }
        if (headDim < 1) throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
        this.batch = batch;
        this.queryHeads = queryHeads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.listsPerSequence = perQueryHead ? queryHeads : kvHeads;
        this.rowsPerList = perQueryHead ? 1 : queryHeads / kvHeads;
        int lists = batch * listsPerSequence;
        this.sequenceLength = new int[batch];
        this.blockIds = new int[lists][16];
        this.logicalBlocks = new int[lists][16];
        this.keptCount = new int[lists];
        this.logitSource = new float[lists][16][];
        this.logitOffset = new int[lists][16];
    }

    public int batch() { return batch; }
    public int queryHeads() { return queryHeads; }
    public int kvHeads() { return kvHeads; }
    public int headDim() { return headDim; }
    public int listsPerSequence() { return listsPerSequence; }
    public int rowsPerList() { return rowsPerList; }
    /** KV head read by list {@code list} (0-based within its sequence). */
    public int kvHeadOfList(int list) { return list * rowsPerList / (queryHeads / kvHeads); }

    /** Sets the number of cached tokens of sequence {@code b} (positions 0..length-1). */
    public void setSequenceLength(int b, int length) {
        if (length < 1) throw new IllegalArgumentException("sequence " + b + ": attention over an empty cache (length " + length + ")");
        sequenceLength[b] = length;
        planned = false;
    }

    public int sequenceLength(int b) { return sequenceLength[b]; }

    /** Clears the kept blocks of one list. */
    public void clearList(int b, int list) {
        keptCount[b * listsPerSequence + list] = 0;
        planned = false;
    }

    /** Appends one kept block (physical id, index within the sequence) to a list; keep ascending order. */
    public void addBlock(int b, int list, int physicalId, int logicalBlock) {
        addBlock(b, list, physicalId, logicalBlock, null, 0);
    }

    /**
     * {@link #addBlock(int, int, int, int)} with the block's logits {@code q . k_t / sqrt(headDim)} for the
     * list's query rows, {@code logits[offset + r * blockSize + t]} (a full block; null: none). The
     * array is read when the plan runs, so it must hold them until then.
     */
    public void addBlock(int b, int list, int physicalId, int logicalBlock, float[] logits, int offset) {
        int l = b * listsPerSequence + list;
        int n = keptCount[l];
        if (n == blockIds[l].length) {
            blockIds[l] = Arrays.copyOf(blockIds[l], n * 2);
            logicalBlocks[l] = Arrays.copyOf(logicalBlocks[l], n * 2);
            logitSource[l] = Arrays.copyOf(logitSource[l], n * 2);
            logitOffset[l] = Arrays.copyOf(logitOffset[l], n * 2);
        }
        blockIds[l][n] = physicalId;
        logicalBlocks[l][n] = logicalBlock;
        logitSource[l][n] = logits;
        logitOffset[l][n] = offset;
        keptCount[l] = n + 1;
        planned = false;
    }

    /** Whether the i-th kept block of a list came with its logits. */
    public boolean hasLogits(int b, int list, int i) { return logitSource[b * listsPerSequence + list][i] != null; }

    /** Kept blocks of one list. */
    public int keptCount(int b, int list) { return keptCount[b * listsPerSequence + list]; }

    /** Physical id of the i-th kept block of a list. */
    public int keptBlockId(int b, int list, int i) { return blockIds[b * listsPerSequence + list][i]; }

    /** Sequence-relative index of the i-th kept block of a list. */
    public int keptLogicalBlock(int b, int list, int i) { return logicalBlocks[b * listsPerSequence + list][i]; }

    /** Number of work units of the current schedule (after plan). */
    public int unitCount() { return unitCount; }
}
