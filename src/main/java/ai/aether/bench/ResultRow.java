package ai.aether.bench;

/**
 * One benchmark row: a method at one sparsity level and one cache length, aggregated over every
 * snapshot and query head of the run. Times are milliseconds per decode step of the whole
 * batch (all heads); speedups are dense / sparse medians of the same run. NaN = not measured.
 *
 * @param source             what KV was used
 * @param seqLen             cached tokens
 * @param method             method name
 * @param kind               AETHER, QUEST, ORACLE, SINK_WINDOW, RANDOM
 * @param targetSparsity     the sweep level, NaN without a sweep
 * @param achievedSparsity   1 - kept blocks / blocks
 * @param cosineMean         mean cosine similarity of sparse vs dense outputs over query heads
 * @param cosineMin          worst query head
 * @param normalizedL2Mean   mean ||o_s - o_d|| / ||o_d||
 * @param klMean             mean KL(sparse || dense) in nats
 * @param massRecallMean     mean share of dense attention mass inside the kept blocks
 * @param massRecallP5       5th percentile over query heads
 * @param entropyChangeMean  mean H(sparse) - H(dense) in nats
 * @param blockPrecision     kept blocks in some group member's same-count oracle
 * @param blockRecall        query heads' own same-count oracle blocks that were kept
 * @param theoreticalSpeedup 1 / (1 - achievedSparsity)
 * @param denseMs            dense median
 * @param sparseMs           sparse median (radar + selection + attention)
 * @param sparseMsP25        25th percentile of the sparse time
 * @param sparseMsP75        75th percentile of the sparse time
 * @param radarMs            radar + selection median
 * @param measuredSpeedup    denseMs / sparseMs
 * @param radarShare         radarMs / sparseMs
 * @param kvBytesRead        K+V bytes of the kept blocks, per step of the batch
 * @param kvBytesSkipped     K+V bytes of the skipped blocks
 * @param metadataBytesRead  block metadata the radar reads
 * @param bytesReadShare     (kvBytesRead + metadataBytesRead) / dense K+V bytes
 * @param equalBytesMassRecall mean mass recall when the method gets the primary method's bytes
 *                           (kept KV + its own metadata) instead of its block count
 * @param kernelError        largest relative L2 error of the attention kernel's sparse output against the float64 sparse reference
 */
public record ResultRow(String source, int seqLen, String method, String kind, double targetSparsity, double achievedSparsity,
                        double cosineMean, double cosineMin, double normalizedL2Mean, double klMean, double massRecallMean,
                        double massRecallP5, double entropyChangeMean, double blockPrecision, double blockRecall,
                        double theoreticalSpeedup, double denseMs, double sparseMs, double sparseMsP25, double sparseMsP75,
                        double radarMs, double measuredSpeedup, double radarShare, long kvBytesRead, long kvBytesSkipped,
                        long metadataBytesRead, double bytesReadShare, double equalBytesMassRecall, double kernelError) {

    /** The sparsity a row is grouped and charted by: the sweep target if any, else the achieved one. */
    public double level() {
        return Double.isNaN(targetSparsity) ? achievedSparsity : targetSparsity;
    }
}
