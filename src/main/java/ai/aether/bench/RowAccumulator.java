package ai.aether.bench;

import java.util.ArrayList;
import java.util.List;

/** Collects one (method, level, seq-len) row over every batch of snapshots. */
final class RowAccumulator {

    private final List<Double> cosine = new ArrayList<>();
    private final List<Double> normalizedL2 = new ArrayList<>();
    private final List<Double> kl = new ArrayList<>();
    private final List<Double> massRecall = new ArrayList<>();
    private final List<Double> entropyChange = new ArrayList<>();
    private final List<Double> recall = new ArrayList<>();
    private final List<Double> precision = new ArrayList<>();
    private final List<Double> equalBytesRecall = new ArrayList<>();
    private long keptBlocks, totalBlocks, kvBytesRead, kvBytesSkipped, metadataBytes, denseBytes;
    private double denseMs, sparseMs, sparseP25, sparseP75, radarMs;
    private boolean timed;
    private double kernelError = Double.NaN;

    /** Quality of one snapshot's selection: per query head and per KV head. */
    void addQuality(HeadReference[] refs, BlockSelection selection) {
        int kvHeads = selection.kvHeads(), group = refs.length / kvHeads;
        for (int qh = 0; qh < refs.length; qh++) {
            boolean[] kept = keptOf(selection, qh / group);
            QualityMetrics.HeadQuality q = QualityMetrics.evaluate(refs[qh], kept);
            cosine.add(q.cosine());
            normalizedL2.add(q.normalizedL2());
            kl.add(q.klDivergence());
            massRecall.add(q.massRecall());
            entropyChange.add(q.entropyChange());
            recall.add(QualityMetrics.blockRecall(refs[qh], kept));
        }
        for (int h = 0; h < kvHeads; h++) {
            HeadReference[] members = java.util.Arrays.copyOfRange(refs, h * group, (h + 1) * group);
            precision.add(QualityMetrics.blockPrecision(members, keptOf(selection, h)));
        }
    }

    static boolean[] keptOf(BlockSelection selection, int kvHead) {
        boolean[] kept = new boolean[selection.blocks()];
        for (int b = 0; b < kept.length; b++) kept[b] = selection.isKept(kvHead, b);
        return kept;
    }

    /** Mass recall of the same method given the primary method's bytes instead of its block count. */
    void addEqualBytesRecall(HeadReference[] refs, BlockSelection selection) {
        int group = refs.length / selection.kvHeads();
        for (int qh = 0; qh < refs.length; qh++) {
            equalBytesRecall.add(QualityMetrics.evaluate(refs[qh], keptOf(selection, qh / group)).massRecall());
        }
    }

    void addBytes(long kept, long total, long kvRead, long kvSkipped, long metadata, long dense) {
        keptBlocks += kept;
        totalBlocks += total;
        kvBytesRead += kvRead;
        kvBytesSkipped += kvSkipped;
        metadataBytes += metadata;
        denseBytes += dense;
    }

    /** Timing medians of one batch (they add up over batches: one step decodes every batch once). */
    void addTiming(double dense, double sparse, double p25, double p75, double radar) {
        timed = true;
        denseMs += dense;
        sparseMs += sparse;
        sparseP25 += p25;
        sparseP75 += p75;
        radarMs += radar;
    }

    void addKernelError(double error) {
        kernelError = Double.isNaN(kernelError) ? error : Math.max(kernelError, error);
    }

    ResultRow toRow(String source, int seqLen, Method method, double target) {
        double sparsity = totalBlocks == 0 ? Double.NaN : 1 - keptBlocks / (double) totalBlocks;
        double sparse = timed ? sparseMs : Double.NaN;
        return new ResultRow(source, seqLen, method.name(), method.kind().name(), target, sparsity,
                mean(cosine), min(cosine), mean(normalizedL2), mean(kl), mean(massRecall), quantile(massRecall, 0.05),
                mean(entropyChange), mean(precision), mean(recall), 1 / (1 - sparsity),
                timed ? denseMs : Double.NaN, sparse, timed ? sparseP25 : Double.NaN, timed ? sparseP75 : Double.NaN,
                timed ? radarMs : Double.NaN, timed ? denseMs / sparse : Double.NaN, timed ? radarMs / sparse : Double.NaN,
                kvBytesRead, kvBytesSkipped, metadataBytes, (kvBytesRead + metadataBytes) / (double) denseBytes,
                mean(equalBytesRecall), kernelError);
    }

    private static double[] array(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double mean(List<Double> values) {
        return Stats.mean(array(values));
    }

    private static double min(List<Double> values) {
        return Stats.min(array(values));
    }

    private static double quantile(List<Double> values, double p) {
        return values.isEmpty() ? Double.NaN : Stats.quantile(array(values), p);
    }
}
