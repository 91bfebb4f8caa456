package ai.aether.attention;

/**
 * Counters of what AETHER attention did, summed over the calls it is passed to (one decode step
 * over all layers, say). Bytes are counted honestly: KV bytes of the tokens actually read, and
 * metadata bytes of every block the radar scored (once per KV head or per list), and the keys a
 * rerank read to rank its candidates.
 */
public final class AttentionStats {

    private long calls;
    private long blocksTotal;
    private long blocksKept;
    private long kvBytesRead;
    private long kvBytesDense;
    private long metadataBytesRead;
    private long rerankBytesRead;
    private double certifiedDroppedMass = Double.NaN;
    private long selectionNanos;
    private long rerankNanos;
    private long attentionNanos;
    private long selections;        // lists given a selection (fresh or reused)
    private long reusedSelections;  // of which decoded with a remembered one (AetherConfig.reselectInterval)

    /** Zeroes every counter. */
    public void reset() {
        calls = blocksTotal = blocksKept = kvBytesRead = kvBytesDense = metadataBytesRead = rerankBytesRead = selectionNanos = rerankNanos = attentionNanos = 0;
        selections = reusedSelections = 0;
        certifiedDroppedMass = Double.NaN;
    }

    void add(long blocks, long kept, long kvRead, long kvDense, long metadataBytes, long rerankBytes, double droppedBound) {
        rerankBytesRead += rerankBytes;
        blocksTotal += blocks;
        blocksKept += kept;
        kvBytesRead += kvRead;
        kvBytesDense += kvDense;
        metadataBytesRead += metadataBytes;
        if (!Double.isNaN(droppedBound)) {
            certifiedDroppedMass = Double.isNaN(certifiedDroppedMass) ? droppedBound : Math.max(certifiedDroppedMass, droppedBound);
        }
    }

    void countSelection(boolean reused) {
        selections++;
        if (reused) reusedSelections++;
    }

    /** {@code rerank}: the part of {@code selection} spent reading candidates' keys for a rerank. */
    void addTimes(long selection, long rerank, long attention) {
        calls++;
        selectionNanos += selection;
        rerankNanos += rerank;
        attentionNanos += attention;
    }

    /** Adds every counter of {@code other} to this one (the certified bound: the larger). */
    public void addAll(AttentionStats other) {
        calls += other.calls;
        add(other.blocksTotal, other.blocksKept, other.kvBytesRead, other.kvBytesDense, other.metadataBytesRead, other.rerankBytesRead,
                other.certifiedDroppedMass);
        selectionNanos += other.selectionNanos;
        rerankNanos += other.rerankNanos;
        attentionNanos += other.attentionNanos;
        selections += other.selections;
        reusedSelections += other.reusedSelections;
    }

    public long calls() { return calls; }
    /** Blocks considered, summed over lists (a list = one KV head, or one query head with PER_QUERY_HEAD). */
    public long blocksTotal() { return blocksTotal; }
    public long blocksKept() { return blocksKept; }
    /** 1 - kept / total. */
    public double sparsity() { return blocksTotal == 0 ? 0 : 1.0 - (double) blocksKept / blocksTotal; }
    public long kvBytesRead() { return kvBytesRead; }
    /** K+V bytes dense attention would read. */
    public long kvBytesDense() { return kvBytesDense; }
    public long metadataBytesRead() { return metadataBytesRead; }
    /** Key bytes a rerank read to rank its candidates (every candidate's keys, kept or not). */
    public long rerankBytesRead() { return rerankBytesRead; }
    /** (KV bytes read + metadata bytes read + rerank key bytes) / dense KV bytes. */
    public double bytesReadShare() {
        return kvBytesDense == 0 ? 0 : (double) (kvBytesRead + metadataBytesRead + rerankBytesRead) / kvBytesDense;
    }
    /** Largest certified bound on the dropped softmax mass of any query head, NaN unless CERTIFIED ran. */
    public double certifiedDroppedMass() { return certifiedDroppedMass; }
    /** Radar, ranking and rerank: everything before the attention proper. */
    public long selectionNanos() { return selectionNanos; }
    /**
     * The part of {@link #selectionNanos} spent on a rerank's key reads (exact block masses). The
     * logits of the candidates it keeps go to the attention, which then reads only their values:
     * this is partly attention work done early, not overhead.
     */
    public long rerankNanos() { return rerankNanos; }
    public long attentionNanos() { return attentionNanos; }
    /** Selections made or reused, one per list and layer call. */
    public long selections() { return selections; }
    /** Of {@link #selections}, those that reused a remembered selection ({@link AetherConfig#reselectInterval}). */
    public long reusedSelections() { return reusedSelections; }

    @Override
    public String toString() {
        return String.format("blocks %d/%d kept (sparsity %.3f), KV bytes %d of %d, metadata bytes %d, rerank key bytes %d, certified dropped mass %s",
                blocksKept, blocksTotal, sparsity(), kvBytesRead, kvBytesDense, metadataBytesRead, rerankBytesRead,
                Double.isNaN(certifiedDroppedMass) ? "n/a" : String.format("%.3g", certifiedDroppedMass));
    }
}
