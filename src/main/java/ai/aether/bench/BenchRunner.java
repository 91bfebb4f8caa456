package ai.aether.bench;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.BlockSelector;
import ai.aether.attention.EventRadar;
import ai.aether.attention.SelectionMode;
import ai.aether.kernels.attention.AttentionBackend;
import ai.aether.kernels.attention.DecodePlan;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the kernel benchmark: for every cache length, batch of snapshots and sparsity level,
 * selects blocks with the primary method (the configured score and selection, or
 * TARGET_SPARSITY at the sweep level), gives every other method the same number of blocks per
 * KV head, and measures quality against float64 dense attention and time against the dense
 * kernel in the same run (reps interleaved: dense, then each method, per repetition).
 *
 * <p>Timed sparse step = radar + selection (the attention package's {@link BlockSelector}, in
 * parallel over KV heads) + plan + the decode kernel over the kept blocks. Oracle selection needs
 * dense attention, so only its kernel time is measured and it reports no speedup.
 */
public final class BenchRunner {

    /** Progress callbacks (the CLI shows a progress bar). */
    public interface Progress {
        void begin(long steps);

        void step(String message);

        Progress NONE = new Progress() {
            @Override public void begin(long steps) {}
            @Override public void step(String message) {}
        };
    }

    private final BenchOptions options;
    private final KvSource source;
    private final Progress progress;
    private final AttentionBackend backend = AttentionBackend.load();

    public BenchRunner(BenchOptions options, KvSource source, Progress progress) {
        this.options = options;
        this.source = source;
        this.progress = progress;
    }

    /** Name of the attention backend that is timed. */
    public String backendName() {
        return backend.name();
    }

    /** Levels: the sweep's target sparsities, or NaN for one run of the configured selection. */
    private List<Double> levels() {
        return options.sparsitySweep().isEmpty() ? List.of(Double.NaN) : options.sparsitySweep();
    }

    public List<ResultRow> run() throws IOException {
        int batches = (source.count() + options.batchSize() - 1) / options.batchSize();
        progress.begin((long) options.seqLens().size() * batches * (1 + levels().size()));
        List<ResultRow> rows = new ArrayList<>();
        List<Method> methods = options.methods();
        for (int seqLen : options.seqLens()) {
            if (seqLen > source.maxTokens()) {
                throw new IllegalArgumentException("--seq-len " + seqLen + " is longer than the " + source.maxTokens()
                        + " tokens of " + source.describe());
            }
            Map<String, RowAccumulator> acc = new LinkedHashMap<>();
            for (double level : levels()) for (Method m : methods) acc.put(key(level, m), new RowAccumulator());
            for (int first = 0; first < source.count(); first += options.batchSize()) {
                List<KvSnapshot> snapshots = new ArrayList<>();
                for (int i = first; i < Math.min(source.count(), first + options.batchSize()); i++) snapshots.add(source.load(i, seqLen));
                PreparedBatch batch = new PreparedBatch(snapshots, options.config());
                snapshots.clear();
                progress.step("S=" + seqLen + " batch " + (first / options.batchSize() + 1) + "/" + batches + " prepared");
                for (double level : levels()) {
                    measureLevel(batch, level, methods, acc, first);
                    progress.step("S=" + seqLen + " sparsity " + (Double.isNaN(level) ? "configured" : level) + " measured");
                }
            }
            for (double level : levels()) {
                for (Method m : methods) rows.add(acc.get(key(level, m)).toRow(source.describe(), seqLen, m, level));
            }
        }
        return rows;
    }

    private static String key(double level, Method m) {
        return level + "/" + m.name();
    }

    /** The config of the primary method at a level. */
    private AetherConfig primaryConfig(double level) {
        AetherConfig c = options.config();
        return Double.isNaN(level) ? c : c.toBuilder().selection(SelectionMode.TARGET_SPARSITY).targetSparsity(level).build();
    }

    /** A score method's config keeping exactly {@code budget} of {@code blocks} blocks (forced ones included). */
    private AetherConfig budgetConfig(Method method, int budget, int blocks) {
        return options.config().toBuilder().radarScore(method.score()).groupCombine(method.combine())
                .selection(SelectionMode.TARGET_SPARSITY).targetSparsity(Math.max(0, 1 - budget / (double) blocks)).build();
    }

    /** One method's selection at one level: keep arrays, selectors (radar methods) and bytes. */
    private final class Step {
        final Method method;
        final boolean[][] keep;          // [lists][blocks]
        final BlockSelector[] selectors; // [lists], null for baselines
        final float[] out;               // [batch][queryHeads][headDim]
        final DecodePlan plan;
        final long[] metadataBytes;      // [lists]

        Step(PreparedBatch batch, Method method, BlockSelector[] selectors, boolean[][] keep, long[] metadataBytes) {
            this.method = method;
            this.selectors = selectors;
            this.keep = keep;
            this.metadataBytes = metadataBytes;
            this.out = new float[batch.batch * batch.queryHeads * batch.headDim];
            this.plan = batch.newPlan();
        }

        int[] kept() {
            int[] k = new int[keep.length];
            for (int l = 0; l < keep.length; l++) for (boolean b : keep[l]) if (b) k[l]++;
            return k;
        }
    }

    private void measureLevel(PreparedBatch batch, double level, List<Method> methods, Map<String, RowAccumulator> acc, int firstSnapshot) {
        Method primaryMethod = methods.getFirst();
        AetherConfig primary = primaryConfig(level);
        BlockSelector[] primarySelectors = new BlockSelector[batch.lists()];
        for (int l = 0; l < primarySelectors.length; l++) primarySelectors[l] = new BlockSelector(primary);
        Step primaryStep = radarStep(batch, primaryMethod, primarySelectors);
        int[] budget = primaryStep.kept();                     // [lists] blocks every other method gets
        long[] bytesBudget = new long[batch.lists()];          // [lists] primary's KV + metadata bytes
        for (int l = 0; l < budget.length; l++) bytesBudget[l] = keptKvBytes(batch, primaryStep.keep[l]) + primaryStep.metadataBytes[l];

        List<Step> steps = new ArrayList<>();
        steps.add(primaryStep);
        for (Method m : methods.subList(1, methods.size())) steps.add(stepAtBudget(batch, m, budget, level, firstSnapshot));

        for (Step step : steps) {
            RowAccumulator row = acc.get(key(level, step.method));
            for (int b = 0; b < batch.batch; b++) row.addQuality(batch.references[b], batch.selectionOf(step.keep, b));
            addBytes(batch, step, row);
            Step equalBytes = step == primaryStep ? step : stepAtBytes(batch, step.method, bytesBudget, level, firstSnapshot);
            for (int b = 0; b < batch.batch; b++) row.addEqualBytesRecall(batch.references[b], batch.selectionOf(equalBytes.keep, b));
        }
        time(batch, steps, level, acc);
    }

    private Step radarStep(PreparedBatch batch, Method method, BlockSelector[] selectors) {
        boolean[][] keep = new boolean[batch.lists()][batch.blocks];
        BlockSelector.Outcome[] outcomes = batch.select(selectors, keep);
        long[] metadata = new long[batch.lists()];
        for (int l = 0; l < metadata.length; l++) {
            metadata[l] = outcomes[l].scored() * batch.metadataBytesPerBlock(selectors[l].radar());
        }
        return new Step(batch, method, selectors, keep, metadata);
    }

    private Step stepAtBudget(PreparedBatch batch, Method method, int[] budget, double level, int firstSnapshot) {
        if (method.usesRadar()) {
            BlockSelector[] selectors = new BlockSelector[batch.lists()];
            for (int l = 0; l < selectors.length; l++) selectors[l] = new BlockSelector(budgetConfig(method, budget[l], batch.blocks));
            return radarStep(batch, method, selectors);
        }
        boolean[][] keep = new boolean[batch.lists()][batch.blocks];
        AetherConfig c = options.config();
        for (int b = 0; b < batch.batch; b++) {
            int[] perHead = java.util.Arrays.copyOfRange(budget, b * batch.kvHeads, (b + 1) * batch.kvHeads);
            BlockSelection s = switch (method.kind()) {
                case ORACLE -> Baselines.oracle(batch.references[b], batch.kvHeads, perHead);
                case SINK_WINDOW -> Baselines.sinkWindow(batch.kvHeads, batch.blocks, c.sinkBlocks(), perHead);
                case RANDOM -> Baselines.random(batch.kvHeads, batch.blocks, c.sinkBlocks(), c.localWindow(), perHead,
                        options.seed() ^ (31L * (firstSnapshot + b)) ^ Double.doubleToLongBits(level));
                default -> throw new IllegalStateException("not a baseline: " + method);
            };
            batch.copyInto(s, b, keep);
        }
        return new Step(batch, method, null, keep, new long[batch.lists()]);
    }

    /** The method's selection when it may read as many bytes (KV + its own metadata) as the primary did. */
    private Step stepAtBytes(PreparedBatch batch, Method method, long[] bytesBudget, double level, int firstSnapshot) {
        long metaPerBlock = 0;
        if (method.usesRadar()) {
            metaPerBlock = batch.metadataBytesPerBlock(new EventRadar(options.config(), method.score()));
        }
        long fullBlock = batch.blockKvBytes(0);
        int[] budget = new int[batch.lists()];
        for (int l = 0; l < budget.length; l++) {
            long scoredBlocks = batch.tokens / batch.pool.blockSize();  // blocks with metadata (full ones)
            long forKv = bytesBudget[l] - metaPerBlock * scoredBlocks;
            budget[l] = (int) Math.clamp(forKv / fullBlock, 1, batch.blocks);
        }
        return stepAtBudget(batch, method, budget, level, firstSnapshot);
    }

    private static long keptKvBytes(PreparedBatch batch, boolean[] keep) {
        long bytes = 0;
        for (int blk = 0; blk < keep.length; blk++) if (keep[blk]) bytes += batch.blockKvBytes(blk);
        return bytes;
    }

    private static void addBytes(PreparedBatch batch, Step step, RowAccumulator row) {
        long kept = 0, read = 0, metadata = 0;
        for (int l = 0; l < step.keep.length; l++) {
            for (boolean k : step.keep[l]) if (k) kept++;
            read += keptKvBytes(batch, step.keep[l]);
            metadata += step.metadataBytes[l];
        }
        long dense = batch.denseKvBytes();
        row.addBytes(kept, (long) batch.lists() * batch.blocks, read, dense - read, metadata, dense);
    }

    /** Interleaved timing: per repetition the dense step, then each method's full sparse step. */
    private void time(PreparedBatch batch, List<Step> steps, double level, Map<String, RowAccumulator> acc) {
        boolean[][] all = new boolean[batch.lists()][batch.blocks];
        for (boolean[] row : all) java.util.Arrays.fill(row, true);
        DecodePlan densePlan = batch.newPlan();
        float[] denseOut = new float[batch.batch * batch.queryHeads * batch.headDim];
        int reps = options.reps();
        double[] dense = new double[reps];
        double[][] select = new double[steps.size()][reps];
        double[][] total = new double[steps.size()][reps];
        for (int rep = -options.warmup(); rep < reps; rep++) {
            long t0 = System.nanoTime();
            batch.attend(backend, densePlan, all, denseOut);
            long t1 = System.nanoTime();
            if (rep >= 0) dense[rep] = (t1 - t0) / 1e6;
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                long s0 = System.nanoTime();
                if (step.selectors != null) batch.select(step.selectors, step.keep);
                long s1 = System.nanoTime();
                batch.attend(backend, step.plan, step.keep, step.out);
                long s2 = System.nanoTime();
                if (rep >= 0) {
                    select[i][rep] = (s1 - s0) / 1e6;
                    total[i][rep] = (s2 - s0) / 1e6;
                }
            }
        }
        double denseMedian = Stats.median(dense);
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            RowAccumulator row = acc.get(key(level, step.method));
            if (step.method.kind() == Method.Kind.ORACLE) {
                row.addKernelError(kernelError(batch, step));
                continue;  // its selection needs dense attention: no honest sparse time exists
            }
            row.addTiming(denseMedian, Stats.median(total[i]), Stats.quantile(total[i], 0.25), Stats.quantile(total[i], 0.75),
                    Stats.median(select[i]));
            row.addKernelError(kernelError(batch, step));
        }
    }

    /** Largest relative L2 error of the kernel's sparse outputs against the float64 sparse reference. */
    private static double kernelError(PreparedBatch batch, Step step) {
        double worst = 0;
        int d = batch.headDim;
        for (int b = 0; b < batch.batch; b++) {
            for (int qh = 0; qh < batch.queryHeads; qh++) {
                boolean[] keep = step.keep[b * batch.kvHeads + qh / batch.group];
                double[] ref = batch.references[b][qh].sparseOutput(keep);
                double err = 0, norm = 0;
                int o = (b * batch.queryHeads + qh) * d;
                for (int i = 0; i < d; i++) {
                    double e = step.out[o + i] - ref[i];
                    err += e * e;
                    norm += ref[i] * ref[i];
                }
                worst = Math.max(worst, Math.sqrt(err / Math.max(norm, 1e-300)));
            }
        }
        return worst;
    }
}
