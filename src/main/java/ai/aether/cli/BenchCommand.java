package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.GroupCombine;
import ai.aether.attention.RadarScore;
import ai.aether.attention.SelectionMode;
import ai.aether.bench.BenchOptions;
import ai.aether.bench.BenchRunner;
import ai.aether.bench.Charts;
import ai.aether.bench.CsvExport;
import ai.aether.bench.KvSource;
import ai.aether.bench.NpzKvSource;
import ai.aether.bench.ResultRow;
import ai.aether.bench.SeedTable;
import ai.aether.bench.SyntheticKv;
import ai.aether.bench.TableFormatter;
import ai.aether.kernels.Parallel;
import ai.aether.kernels.attention.KvDtype;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code aether bench}: the kernel benchmark and quality evaluation of AETHER against dense
 * attention and the baselines (oracle, Quest, sink+window, random) at the same block budget.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Benchmarks AETHER block-sparse decode attention against dense attention on synthetic or dumped KV caches.",
                "",
                "Metrics per (method, sparsity, seq-len): output cosine, normalised L2, KL, attention-mass recall (mean, p5),"
                        + " entropy change, block precision/recall vs the same-count oracle, achieved sparsity, theoretical and"
                        + " MEASURED speedup (dense/sparse medians of the same run), radar+selection share, KV bytes read and"
                        + " skipped, metadata bytes, mass recall at equal bytes read.",
                "",
                "Baselines at the same block budget: oracle (true mass), quest (per-channel min/max bound), sink+window, random.",
                "",
                "Exit codes: 0 ok, 1 bad input, 2 --verify found a metric below the seed table.",
                ""},
        footer = {"", "Examples:",
                "  aether bench --seq-len 16384 --sparsity-sweep 0.5 0.6 0.7 0.8 0.9 \\",
                "      --all-variants --export-csv out.csv --charts img",
                "  aether bench --shape llama3-8b --seq-len 16384 32768 \\",
                "      --sparsity-sweep 0.8 --verify",
                "  aether bench --kv-file dump.npz --sparsity-sweep 0.8 0.9"})
public final class BenchCommand implements Callable<Integer> {

    enum Shape {
        llama7b(32, 32, 128, 10_000), llama3_8b(32, 8, 128, 500_000);

        final int heads, kvHeads, headDim;
        final double ropeTheta;

        Shape(int heads, int kvHeads, int headDim, double ropeTheta) {
            this.heads = heads; this.kvHeads = kvHeads; this.headDim = headDim; this.ropeTheta = ropeTheta;
        }
    }

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", paramLabel = "NAME", converter = ShapeConverter.class,
            description = "Model shape preset for synthetic KV: llama7b (H=32, H_kv=32, D=128, RoPE theta 1e4; default) or llama3-8b (32/8/128, theta 5e5).")
    Shape shape = Shape.llama7b;

    @Option(names = "--batch-size", paramLabel = "N", description = "Caches decoded together per timed step (synthetic: N different caches; --kv-file: N layers per call). Default ${DEFAULT-VALUE}.")
    int batchSize = 1;

    @Option(names = "--seq-len", paramLabel = "TOKENS", arity = "1..*", split = ",",
            description = "Cache lengths to measure, several allowed (default 16384; with --kv-file the file's length).")
    List<Integer> seqLens;

    @Option(names = "--heads", paramLabel = "H", description = "Query heads (overrides --shape).")
    Integer heads;

    @Option(names = "--kv-heads", paramLabel = "H_KV", description = "KV heads; must divide --heads (overrides --shape).")
    Integer kvHeads;

    @Option(names = "--head-dim", paramLabel = "D", description = "Head dimension, even (overrides --shape).")
    Integer headDim;

    @Option(names = "--rope-theta", paramLabel = "THETA", description = "RoPE base of the synthetic keys (overrides --shape).")
    Double ropeTheta;

    @Option(names = "--block-size", paramLabel = "TOKENS", description = "Tokens per KV block. Default ${DEFAULT-VALUE}.")
    int blockSize = 64;

    @Option(names = "--dtype", paramLabel = "TYPE", converter = DtypeConverter.class,
            description = "KV storage type: fp32, fp16, bf16 or int8 (per-token scales). Default fp16.")
    KvDtype dtype = KvDtype.FP16;

    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Option(names = "--score", paramLabel = "SCORE", converter = ScoreConverter.class,
            description = "Radar score of the primary AETHER row: basic, variance, concentration, causal, certified, quest, shrunk-box,"
                    + " quantized-box, quantized-bound, key-sketch. Default quantized-box.")
    RadarScore score = AetherConfig.defaults().radarScore();

    @Option(names = "--group-combine", paramLabel = "MODE", converter = CombineConverter.class,
            description = "How the primary row combines a GQA group's scores: max or softmax-sum. Default softmax-sum.")
    GroupCombine groupCombine = AetherConfig.defaults().groupCombine();

    @Option(names = "--selection", paramLabel = "MODE", converter = SelectionConverter.class,
            description = "Selection without a sweep: threshold, top-k, target-sparsity or certified. Default target-sparsity.")
    SelectionMode selection = SelectionMode.TARGET_SPARSITY;

    @Option(names = "--threshold", paramLabel = "SHARE", description = "THRESHOLD selection: keep blocks whose estimated attention-mass share reaches this. Default ${DEFAULT-VALUE}.")
    double threshold = 0.002;

    @Option(names = "--top-k", paramLabel = "K", description = "TOP_K selection: blocks kept besides sinks and local window. Default ${DEFAULT-VALUE}.")
    int topK = 16;

    @Option(names = "--target-sparsity", paramLabel = "S", description = "TARGET_SPARSITY selection: share of blocks skipped, [0, 1). Default ${DEFAULT-VALUE}.")
    double targetSparsity = 0.8;

    @Option(names = "--epsilon", paramLabel = "EPS", description = "CERTIFIED selection: bound on the dropped attention mass. Default ${DEFAULT-VALUE}.")
    double epsilon = 0.01;

    @Option(names = "--local-window", paramLabel = "BLOCKS", description = "Newest blocks always kept. Default ${DEFAULT-VALUE}.")
    int localWindow = 4;

    @Option(names = "--sink-blocks", paramLabel = "BLOCKS", description = "First blocks always kept. Default ${DEFAULT-VALUE}.")
    int sinkBlocks = 1;

    @Option(names = "--sparsity-sweep", paramLabel = "S", arity = "1..*", split = ",",
            description = "Target sparsities to sweep, e.g. 0.5 0.6 0.7 0.8 0.9 (every method at TARGET_SPARSITY's budget); overrides --selection.")
    List<Double> sparsitySweep = List.of();

    @Option(names = "--all-variants", description = "Rows for every radar score, not just --score.")
    boolean allVariants;

    @Option(names = "--warmup", paramLabel = "N", description = "Untimed repetitions first. Default ${DEFAULT-VALUE}.")
    int warmup = 3;

    @Option(names = "--reps", paramLabel = "N", description = "Timed repetitions (medians and IQR reported). Default ${DEFAULT-VALUE}.")
    int reps = 10;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the synthetic KV and the random baseline. Default ${DEFAULT-VALUE}.")
    long seed = 42;

    @Option(names = "--kv-file", paramLabel = "FILE.npz",
            description = "Benchmark on a NumPy dump: keys/values (L?, H_kv, S, D), queries (L?, H, D); each layer is one snapshot.")
    Path kvFile;

    @Option(names = "--export-csv", paramLabel = "FILE", description = "Write one CSV row per (method, sparsity, seq-len).")
    Path exportCsv;

    @Option(names = "--charts", paramLabel = "DIR", description = "Write PNG charts (quality and speedup vs sparsity) into DIR.")
    Path chartsDir;

    @Option(names = "--min-kept-tokens", defaultValue = "0", paramLabel = "N",
            description = "Target sparsity keeps at least N tokens' blocks (default ${DEFAULT-VALUE} here: the sparsity asked for at every length; the engine's default is 768).")
    int minKeptTokens;

    @Option(names = "--verify", description = "Exit with code 2 when an AETHER row's cosine, block precision or recall is below the seed table.")
    boolean verify;

    @Option(names = "--no-progress", description = "Do not show the progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        if (threads != null) Parallel.setThreads(threads);
        AetherConfig config = AetherConfig.builder().blockSize(blockSize).kvDtype(dtype).radarScore(score).selection(selection)
                .threshold(threshold).topK(topK).targetSparsity(targetSparsity).epsilon(epsilon).localWindow(localWindow)
                .sinkBlocks(sinkBlocks).groupCombine(groupCombine).minKeptTokens(minKeptTokens).build();
        KvSource source;
        int h, hkv, d;
        List<Integer> lengths;
        if (kvFile != null) {
            NpzKvSource npz = new NpzKvSource(kvFile);
            source = npz;
            h = npz.queryHeads();
            hkv = npz.kvHeads();
            d = npz.headDim();
            lengths = seqLens == null ? List.of(npz.maxTokens()) : seqLens;
        } else {
            h = heads != null ? heads : shape.heads;
            hkv = kvHeads != null ? kvHeads : (heads != null ? Math.min(heads, shape.kvHeads) : shape.kvHeads);
            d = headDim != null ? headDim : shape.headDim;
            if (h < 1 || h > 1024) throw new IllegalArgumentException("--heads must be in [1, 1024], got " + h);
            if (hkv < 1 || h % hkv != 0) throw new IllegalArgumentException("--kv-heads must divide --heads (" + h + "), got " + hkv);
            source = new SyntheticKv(hkv, h, d, ropeTheta != null ? ropeTheta : shape.ropeTheta, seed, batchSize);
            lengths = seqLens == null ? List.of(16384) : seqLens;
        }
        BenchOptions options = new BenchOptions(batchSize, lengths, config, allVariants, sparsitySweep, warmup, reps, seed);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.printf(Locale.ROOT, "aether bench: %s | H=%d H_kv=%d D=%d block %d %s | %s | %d threads, %d cores, Java %s%n",
                source.describe(), h, hkv, d, blockSize, dtype.name().toLowerCase(Locale.ROOT),
                sparsitySweep.isEmpty() ? "selection " + config.selection() + " score " + config.effectiveScore() : "sweep " + sparsitySweep,
                Parallel.threads(), Runtime.getRuntime().availableProcessors(), Runtime.version());
        out.flush();
        List<ResultRow> rows = run(options, source, out);
        out.print(TableFormatter.format(rows));
        out.println();
        out.print(TableFormatter.versusQuest(rows));
        out.flush();
        if (exportCsv != null) {
            CsvExport.write(rows, exportCsv);
            out.println("wrote " + exportCsv);
        }
        if (chartsDir != null) {
            for (Path p : Charts.write(rows, chartsDir)) out.println("wrote " + p);
        }
        if (verify) {
            List<String> violations = SeedTable.violations(rows);
            if (!violations.isEmpty()) {
                violations.forEach(v -> err.println("verify: " + v));
                err.flush();
                return 2;
            }
            out.println("verify: every AETHER row meets the seed table (cosine, block precision, block recall)");
        }
        out.flush();
        return 0;
    }

    private List<ResultRow> run(BenchOptions options, KvSource source, PrintWriter out) throws Exception {
        if (noProgress) {
            BenchRunner runner = new BenchRunner(options, source, BenchRunner.Progress.NONE);
            out.println("attention backend: " + runner.backendName());
            return runner.run();
        }
        ProgressBar[] bar = new ProgressBar[1];
        try {
            BenchRunner runner = new BenchRunner(options, source, new BenchRunner.Progress() {
                @Override
                public void begin(long steps) {
                    bar[0] = new ProgressBarBuilder().setTaskName("bench").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                            .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
                }

                @Override
                public void step(String message) {
                    bar[0].setExtraMessage(" " + message);
                    bar[0].step();
                }
            });
            out.println("attention backend: " + runner.backendName());
            out.flush();
            return runner.run();
        } finally {
            if (bar[0] != null) bar[0].close();
        }
    }

    static final class ShapeConverter implements picocli.CommandLine.ITypeConverter<Shape> {
        @Override
        public Shape convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT).replace("_", "-")) {
                case "llama7b", "llama-7b", "llama2-7b" -> Shape.llama7b;
                case "llama3-8b", "llama-3-8b" -> Shape.llama3_8b;
                default -> throw new picocli.CommandLine.TypeConversionException("unknown shape '" + value + "' (llama7b, llama3-8b)");
            };
        }
    }

    static final class DtypeConverter implements picocli.CommandLine.ITypeConverter<KvDtype> {
        @Override
        public KvDtype convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "fp32", "f32", "float32" -> KvDtype.FP32;
                case "fp16", "f16", "float16" -> KvDtype.FP16;
                case "bf16", "bfloat16" -> KvDtype.BF16;
                case "int8" -> KvDtype.INT8;
                default -> throw new picocli.CommandLine.TypeConversionException("unknown dtype '" + value + "' (fp32, fp16, bf16, int8)");
            };
        }
    }

    static final class ScoreConverter implements picocli.CommandLine.ITypeConverter<RadarScore> {
        @Override
        public RadarScore convert(String value) {
            return enumValue(RadarScore.class, value, "basic, variance, concentration, causal, certified, quest, shrunk-box, quantized-box, quantized-bound, key-sketch");
        }
    }

    static final class CombineConverter implements picocli.CommandLine.ITypeConverter<GroupCombine> {
        @Override
        public GroupCombine convert(String value) {
            return enumValue(GroupCombine.class, value, "max, softmax-sum");
        }
    }

    static final class SelectionConverter implements picocli.CommandLine.ITypeConverter<SelectionMode> {
        @Override
        public SelectionMode convert(String value) {
            return enumValue(SelectionMode.class, value, "threshold, top-k, target-sparsity, certified");
        }
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, String value, String allowed) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.TypeConversionException("unknown value '" + value + "' (" + allowed + ")");
        }
    }
}
