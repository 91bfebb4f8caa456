package ai.aether.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The seed's expected-quality table (SPEC section 5), which {@code --verify} gates on:
 * 50%: cosine 0.998, block precision 0.95, block recall 0.98; 70%: 0.995/0.92/0.95;
 * 80%: 0.990/0.88/0.92; 90%: 0.970/0.80/0.85. Between table sparsities the thresholds are
 * interpolated linearly; below 50% the 50% row applies, above 90% the 90% row.
 */
public final class SeedTable {

    /** Minimum quality at one sparsity. */
    public record Thresholds(double sparsity, double cosine, double precision, double recall) {}

    public static final List<Thresholds> ROWS = List.of(
            new Thresholds(0.5, 0.998, 0.95, 0.98),
            new Thresholds(0.7, 0.995, 0.92, 0.95),
            new Thresholds(0.8, 0.990, 0.88, 0.92),
            new Thresholds(0.9, 0.970, 0.80, 0.85));

    private SeedTable() {}

    /** Thresholds at {@code sparsity}. */
    public static Thresholds at(double sparsity) {
        if (sparsity <= ROWS.getFirst().sparsity()) return ROWS.getFirst();
        if (sparsity >= ROWS.getLast().sparsity()) return ROWS.getLast();
        for (int i = 1; i < ROWS.size(); i++) {
            Thresholds lo = ROWS.get(i - 1), hi = ROWS.get(i);
            if (sparsity <= hi.sparsity()) {
                double w = (sparsity - lo.sparsity()) / (hi.sparsity() - lo.sparsity());
                return new Thresholds(sparsity, lerp(lo.cosine(), hi.cosine(), w), lerp(lo.precision(), hi.precision(), w),
                        lerp(lo.recall(), hi.recall(), w));
            }
        }
        throw new AssertionError("unreachable");
    }

    private static double lerp(double a, double b, double w) {
        return a + (b - a) * w;
    }

    /**
     * Every AETHER row (baselines are not gated) whose mean cosine, block precision or block recall
     * falls below the table at its achieved sparsity, one line each, naming the metric.
     */
    public static List<String> violations(List<ResultRow> rows) {
        List<String> out = new ArrayList<>();
        for (ResultRow r : rows) {
            if (!r.kind().equals(Method.Kind.AETHER.name())) continue;
            Thresholds t = at(r.achievedSparsity());
            check(out, r, "cosine", r.cosineMean(), t.cosine());
            check(out, r, "block precision", r.blockPrecision(), t.precision());
            check(out, r, "block recall", r.blockRecall(), t.recall());
        }
        return out;
    }

    private static void check(List<String> out, ResultRow r, String metric, double value, double min) {
        if (!(value >= min)) {
            out.add(String.format(Locale.ROOT, "%s at S=%d, sparsity %.2f: %s %.4f < %.4f (seed table)",
                    r.method(), r.seqLen(), r.achievedSparsity(), metric, value, min));
        }
    }
}
