package ai.aether.bench;

import java.util.Arrays;

/**
 * Quality of a block selection against dense attention (SPEC section 4), from float64
 * {@link HeadReference}s. For one query head with dense weights p and kept mass M:
 * <ul>
 *   <li>cosine and normalised L2 ({@code ||o_s - o_d|| / ||o_d||}) of sparse vs dense outputs;</li>
 *   <li>KL(sparse || dense) = {@code sum_kept (p/M) ln((p/M)/p) = -ln M} (sparse attention is the
 *       dense one renormalised over the kept tokens);</li>
 *   <li>attention-mass recall M;</li>
 *   <li>entropy change H(sparse) - H(dense) in nats.</li>
 * </ul>
 * Block precision and recall compare with the oracle that keeps the same number of blocks:
 * recall of query head h is the share of h's own top-k blocks (by its true mass, k = kept
 * count of its KV head) that were kept; precision of a KV head is the share of its kept blocks
 * that are in the top-k of at least one query head of its group. Without GQA the two are equal.
 */
public final class QualityMetrics {

    private QualityMetrics() {}

    /** Quality of one query head. */
    public record HeadQuality(double cosine, double normalizedL2, double klDivergence, double massRecall, double entropyChange) {}

    /** Quality of one query head when its KV head keeps {@code kept[b]} blocks. */
    public static HeadQuality evaluate(HeadReference ref, boolean[] kept) {
        int d = ref.headDim;
        double mass = 0, entropy = 0;
        double[] sparse = new double[d];
        for (int b = 0; b < ref.blockCount; b++) {
            if (!kept[b]) continue;
            mass += ref.blockMass[b];
            entropy += ref.blockEntropy[b];
            for (int i = 0; i < d; i++) sparse[i] += ref.blockOutput[b * d + i];
        }
        if (!(mass > 0)) return new HeadQuality(0, 1, Double.POSITIVE_INFINITY, 0, Double.NaN);
        double dot = 0, sparseNorm = 0, denseNorm = 0, diff = 0;
        for (int i = 0; i < d; i++) {
            sparse[i] /= mass;
            dot += sparse[i] * ref.denseOutput[i];
            sparseNorm += sparse[i] * sparse[i];
            denseNorm += ref.denseOutput[i] * ref.denseOutput[i];
            double e = sparse[i] - ref.denseOutput[i];
            diff += e * e;
        }
        double cosine = sparseNorm == 0 || denseNorm == 0 ? 0 : dot / Math.sqrt(sparseNorm * denseNorm);
        double l2 = denseNorm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / denseNorm);
        double sparseEntropy = entropy / mass + Math.log(mass);
        return new HeadQuality(cosine, l2, -Math.log(mass), mass, sparseEntropy - ref.denseEntropy);
    }

    /** Block recall of one query head against its own oracle with {@code kept}'s count. */
    public static double blockRecall(HeadReference ref, boolean[] kept) {
        int k = count(kept);
        if (k == 0) return 0;
        boolean[] oracle = topByMass(ref.blockMass, k);
        int hit = 0;
        for (int b = 0; b < kept.length; b++) if (kept[b] && oracle[b]) hit++;
        return hit / (double) k;
    }

    /** Block precision of a KV head: share of kept blocks in some group member's same-count oracle. */
    public static double blockPrecision(HeadReference[] group, boolean[] kept) {
        int k = count(kept);
        if (k == 0) return 0;
        boolean[] anyOracle = new boolean[kept.length];
        for (HeadReference ref : group) {
            boolean[] oracle = topByMass(ref.blockMass, k);
            for (int b = 0; b < kept.length; b++) anyOracle[b] |= oracle[b];
        }
        int hit = 0;
        for (int b = 0; b < kept.length; b++) if (kept[b] && anyOracle[b]) hit++;
        return hit / (double) k;
    }

    /** The {@code k} largest entries of {@code score} (ties: lower index first). */
    public static boolean[] topByMass(double[] score, int k) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a]) : Integer.compare(a, b));
        boolean[] top = new boolean[score.length];
        for (int i = 0; i < Math.min(k, order.length); i++) top[order[i]] = true;
        return top;
    }

    private static int count(boolean[] kept) {
        int n = 0;
        for (boolean k : kept) if (k) n++;
        return n;
    }
}
