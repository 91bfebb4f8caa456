package ai.aether.bench;

import java.util.Arrays;

/** Small order statistics for benchmark samples. */
public final class Stats {

    private Stats() {}

    /**
     * The {@code p}-quantile (0..1) with linear interpolation between order statistics (numpy's
     * default): {@code x[floor(h)] + (h - floor(h)) (x[floor(h)+1] - x[floor(h)])}, {@code h = p (n-1)}.
     */
    public static double quantile(double[] samples, double p) {
        if (samples.length == 0) return Double.NaN;
        if (p < 0 || p > 1) throw new IllegalArgumentException("quantile must be in [0, 1], got " + p);
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        double h = p * (sorted.length - 1);
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    public static double median(double[] samples) {
        return quantile(samples, 0.5);
    }

    public static double mean(double[] samples) {
        if (samples.length == 0) return Double.NaN;
        double sum = 0;
        for (double x : samples) sum += x;
        return sum / samples.length;
    }

    public static double min(double[] samples) {
        return Arrays.stream(samples).min().orElse(Double.NaN);
    }
}
