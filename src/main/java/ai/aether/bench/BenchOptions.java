package ai.aether.bench;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.GroupCombine;
import ai.aether.attention.RadarScore;

import java.util.List;

/**
 * What one {@code aether bench} run measures.
 *
 * @param batchSize      sequences decoded together in one timed call (synthetic: also the number of snapshots)
 * @param seqLens        cache lengths to measure (tokens)
 * @param config         AETHER settings: block size, sinks, window, selection, threshold, top-k, target sparsity, dtype, score
 * @param allVariants    every radar score (max over the group) and the box scores under the other group combiner,
 *                       not just the primary and the box comparisons
 * @param sparsitySweep  target sparsities to sweep (TARGET_SPARSITY for every method), or empty to use {@code config}'s selection once
 * @param warmup         untimed repetitions before measuring
 * @param reps           timed repetitions (medians are reported)
 * @param seed           random baseline seed
 */
public record BenchOptions(int batchSize, List<Integer> seqLens, AetherConfig config, boolean allVariants,
                           List<Double> sparsitySweep, int warmup, int reps, long seed) {

    public BenchOptions {
        if (config != null && config.radarScore() == ai.aether.attention.RadarScore.ORACLE) {
            throw new IllegalArgumentException("--score oracle: every bench table has the oracle baseline row already; pick an estimator");
        }
        if (batchSize < 1 || batchSize > 1024) throw new IllegalArgumentException("--batch-size must be in [1, 1024], got " + batchSize);
        if (seqLens == null || seqLens.isEmpty()) throw new IllegalArgumentException("--seq-len needs at least one length");
        for (int s : seqLens) {
            if (s < 1 || s > (1 << 24)) throw new IllegalArgumentException("--seq-len must be in [1, 16777216], got " + s);
        }
        for (double s : sparsitySweep) {
            if (!(s >= 0 && s < 1)) throw new IllegalArgumentException("--sparsity-sweep values must be in [0, 1), got " + s);
        }
        if (warmup < 0 || warmup > 1000) throw new IllegalArgumentException("--warmup must be in [0, 1000], got " + warmup);
        if (reps < 1 || reps > 10000) throw new IllegalArgumentException("--reps must be in [1, 10000], got " + reps);
        seqLens = List.copyOf(seqLens);
        sparsitySweep = List.copyOf(sparsitySweep);
    }

    /**
     * The methods of each table, primary first (the configured score and group combiner); then always the
     * quantised box with softmax-sum and the shrunk box with max (the two AETHER defaults, new and
     * previous); with {@code allVariants} every other score (max) and the two box scores under the other
     * combiner; then Quest and the baselines.
     */
    public List<Method> methods() {
        java.util.LinkedHashSet<Method> out = new java.util.LinkedHashSet<>();
        RadarScore primary = config.effectiveScore();
        out.add(Method.of(primary, primary.isCertified() ? GroupCombine.MAX : config.groupCombine()));
        out.add(Method.of(RadarScore.QUANTIZED_BOX, GroupCombine.SOFTMAX_SUM));
        out.add(Method.of(RadarScore.SHRUNK_BOX, GroupCombine.MAX));
        if (allVariants) {
            for (RadarScore s : RadarScore.values()) {
                if (s != RadarScore.QUEST && s != RadarScore.ORACLE) out.add(Method.of(s, GroupCombine.MAX));  // the bench has its own oracle
            }
            out.add(Method.of(RadarScore.SHRUNK_BOX, GroupCombine.SOFTMAX_SUM));
        }
        out.add(Method.of(RadarScore.QUEST, GroupCombine.MAX));
        out.add(Method.ORACLE);
        out.add(Method.SINK_WINDOW);
        out.add(Method.RANDOM);
        return List.copyOf(out);
    }
}
