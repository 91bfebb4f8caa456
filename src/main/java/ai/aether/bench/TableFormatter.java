package ai.aether.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The terminal table: one block per (seq-len, sparsity level), one line per method. */
public final class TableFormatter {

    private static final String HEADER = String.format(Locale.ROOT,
            "%-18s %6s %8s %7s %7s %13s %7s %6s %6s %7s %7s %6s %17s %6s %8s",
            "method", "spars", "cos", "L2", "KL", "mass (p5)", "dH", "P", "R", "bytes%", "R@bytes", "theo", "measured (IQR)", "radar", "kern.err");

    private TableFormatter() {}

    public static String format(List<ResultRow> rows) {
        Map<String, List<ResultRow>> groups = new LinkedHashMap<>();
        for (ResultRow r : rows) {
            String level = Double.isNaN(r.targetSparsity()) ? "configured selection" : String.format(Locale.ROOT, "target sparsity %.2f", r.targetSparsity());
            groups.computeIfAbsent("S=" + r.seqLen() + ", " + level, k -> new java.util.ArrayList<>()).add(r);
        }
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, List<ResultRow>> g : groups.entrySet()) {
            ResultRow first = g.getValue().getFirst();
            out.append(String.format(Locale.ROOT, "%n%s  (dense %.2f ms)%n", g.getKey(), first.denseMs()));
            out.append(HEADER).append('\n');
            for (ResultRow r : g.getValue()) out.append(line(r)).append('\n');
        }
        out.append("""

                cos/L2/KL/dH: sparse vs dense output and attention (means over query heads); mass: attention-mass recall, mean (5th pct);
                P/R: block precision/recall vs the same-count oracle; bytes%: (kept K+V + metadata) / dense K+V; R@bytes: mass recall
                when each method reads the first row's bytes; theo = 1/(1-sparsity); measured = dense/sparse median (IQR of the sparse
                time); radar = radar+selection share of sparse time; kern.err: kernel output vs float64 reference (relative L2).
                """);
        return out.toString();
    }

    /**
     * The primary AETHER row against Quest, and against the shrunk box (the previous default) when that
     * is not the primary, per (seq-len, level): differences in mean and p5 mass recall at the same block
     * budget and in mass recall at equal bytes read.
     */
    public static String versusQuest(List<ResultRow> rows) {
        Map<String, List<ResultRow>> groups = new LinkedHashMap<>();
        for (ResultRow r : rows) groups.computeIfAbsent(r.seqLen() + "/" + r.targetSparsity(), k -> new java.util.ArrayList<>()).add(r);
        StringBuilder out = new StringBuilder();
        for (List<ResultRow> g : groups.values()) {
            ResultRow primary = g.getFirst();
            ResultRow quest = g.stream().filter(r -> r.kind().equals(Method.Kind.QUEST.name())).findFirst().orElse(null);
            ResultRow shrunk = g.stream().filter(r -> r.method().equals("shrunk-box")).findFirst().orElse(null);
            if (quest != null && quest != primary) out.append(versus(primary, quest, "AETHER >= Quest", "Quest ahead"));
            if (shrunk != null && shrunk != primary) out.append(versus(primary, shrunk, "new >= shrunk-box", "shrunk-box ahead"));
        }
        return out.toString();
    }

    private static String versus(ResultRow primary, ResultRow other, String ahead, String behind) {
        double same = primary.massRecallMean() - other.massRecallMean();
        double bytes = primary.equalBytesMassRecall() - other.equalBytesMassRecall();
        return String.format(Locale.ROOT,
                "%s vs %s, S=%d sparsity %.2f: mass recall %+.4f (p5 %+.3f) at equal blocks, %+.4f at equal bytes -> %s%n",
                primary.method(), other.method(), primary.seqLen(), primary.achievedSparsity(), same,
                primary.massRecallP5() - other.massRecallP5(), bytes, bytes >= 0 ? ahead : behind);
    }

    static String line(ResultRow r) {
        String measured = Double.isNaN(r.measuredSpeedup()) ? "-"
                : String.format(Locale.ROOT, "%.2fx (%.2f-%.2f)", r.measuredSpeedup(), r.denseMs() / r.sparseMsP75(), r.denseMs() / r.sparseMsP25());
        return String.format(Locale.ROOT, "%-18s %6.3f %8.5f %7.4f %7.4f %6.4f (%4.2f) %7.3f %6.3f %6.3f %6.1f%% %7.4f %5.2fx %17s %6s %8s",
                r.method(), r.achievedSparsity(), r.cosineMean(), r.normalizedL2Mean(), r.klMean(), r.massRecallMean(), r.massRecallP5(),
                r.entropyChangeMean(), r.blockPrecision(), r.blockRecall(), 100 * r.bytesReadShare(), r.equalBytesMassRecall(),
                r.theoreticalSpeedup(), measured,
                Double.isNaN(r.radarShare()) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * r.radarShare()),
                Double.isNaN(r.kernelError()) ? "-" : String.format(Locale.ROOT, "%.1e", r.kernelError()));
    }
}
