package ai.aether.cli;

import ai.aether.catalog.ModelLocations;
import ai.aether.engine.LLM;
import ai.aether.engine.MemoryReport;
import ai.aether.engine.SideBySide.Setting;
import ai.aether.eval.AgreementEval;
import ai.aether.eval.EvalProgress;
import ai.aether.eval.EvalReports;
import ai.aether.eval.PasskeyEval;
import ai.aether.eval.PerplexityEval;
import ai.aether.kernels.Parallel;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code aether eval passkey|perplexity|agreement}: long-context quality of AETHER against dense
 * attention on a real model. Every prompt is prefilled once and decoded under dense and each
 * AETHER setting ({@link EvalSettings}: {@code --sparsities}, {@code --setting}, the shared AETHER flags).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Long-context quality, dense vs AETHER: pass-key retrieval grid, perplexity, greedy agreement.",
        subcommands = {EvalCommand.Passkey.class, EvalCommand.Perplexity.class, EvalCommand.Agreement.class})
public final class EvalCommand implements Runnable {

    @Override
    public void run() {
        throw new IllegalArgumentException("give a subcommand: passkey, perplexity or agreement (see aether eval --help)");
    }

    /** Options every evaluation shares. */
    static final class Common {
        @Mixin
        ModelOption model;

        @Mixin
        AetherOptions aether;

        @Option(names = "--sparsities", split = ",", paramLabel = "S",
                description = "AETHER target sparsities to compare with dense, each in [0, 1) (default 0.8,0.9 unless --setting or a selection flag is given).")
        List<Double> sparsities = new ArrayList<>();

        @Option(names = "--setting", paramLabel = "SPEC", description = "An AETHER setting (repeatable): comma-separated key=value pairs over the "
                + "shared flags; keys: " + EvalSettings.KEYS + ". E.g. sparsity=0.9,window=1,name=0.9-w1")
        List<String> specs = new ArrayList<>();

        @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: AETHER_THREADS or all cores).")
        Integer threads;

        @Option(names = "--csv", paramLabel = "FILE", description = "Write one row per measurement to FILE.")
        Path csv;

        @Option(names = "--out", paramLabel = "DIR", description = "Write PNG charts to DIR.")
        Path out;

        @Option(names = "--no-progress", description = "No progress bar (for logs).")
        boolean noProgress;

        LLM load() throws IOException {
            if (threads != null) Parallel.setThreads(threads);
            LLM llm = LLM.load(model.resolveOr("smollm2").path());
            llm.warmUp();
            return llm;
        }

        /** Dense, then the AETHER settings ({@link EvalSettings}); checked before the model loads. */
        List<Setting> settings() {
            return EvalSettings.resolve(aether, sparsities, specs);
        }

        /** One line per AETHER setting. */
        String describe(List<Setting> settings) {
            StringBuilder sb = new StringBuilder();
            for (Setting s : settings) {
                if (s.config() != null) sb.append(s.name()).append(": ").append(AetherOptions.describe(s.config())).append('\n');
            }
            return sb.toString().stripTrailing();
        }

        /** Runs {@code task} with a progress bar on stderr (or none). */
        <T> T withProgress(ProgressTask<T> task) throws Exception {
            return EvalCommand.withProgress(noProgress, task);
        }
    }

    /** Runs {@code task} with a console progress bar on stderr, or with none when {@code noProgress}. */
    static <T> T withProgress(boolean noProgress, ProgressTask<T> task) throws Exception {
        if (noProgress) return task.run(EvalProgress.NONE);
        ProgressBar[] bar = new ProgressBar[1];
        try {
            return task.run(new EvalProgress() {
                @Override
                public void begin(String name, long total) {
                    if (bar[0] != null) bar[0].close();
                    bar[0] = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                            .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
                }

                @Override
                public void advance(String detail) {
                    bar[0].setExtraMessage(" " + detail);
                    bar[0].step();
                }
            });
        } finally {
            if (bar[0] != null) bar[0].close();
        }
    }

    @FunctionalInterface
    interface ProgressTask<T> {
        T run(EvalProgress progress) throws Exception;
    }

    @Command(name = "passkey", mixinStandardHelpOptions = true,
            description = "Pass-key retrieval over a grid of context lengths x needle depths; accuracy table, CSV, PNG heat map per method.")
    static final class Passkey implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--lengths", split = ",", paramLabel = "N", defaultValue = "1024,2048,4096,8192",
                description = "Context lengths in tokens (default ${DEFAULT-VALUE}; at most the model's context).")
        int[] lengths;

        @Option(names = "--depths", split = ",", paramLabel = "D", defaultValue = "0,0.25,0.5,0.75,1",
                description = "Needle depths in [0, 1] (default ${DEFAULT-VALUE}).")
        double[] depths;

        @Option(names = "--trials", defaultValue = "2", paramLabel = "N", description = "Trials (keys) per cell (default ${DEFAULT-VALUE}).")
        int trials;

        @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of the keys (default ${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() throws Exception {
            if (trials < 1) throw new IllegalArgumentException("--trials must be >= 1, got " + trials);
            for (int l : lengths) if (l < 64) throw new IllegalArgumentException("--lengths entries must be >= 64, got " + l);
            for (double d : depths) if (!(d >= 0 && d <= 1)) throw new IllegalArgumentException("--depths entries must be in [0, 1], got " + d);
            List<Setting> settings = common.settings();
            try (LLM llm = common.load()) {
                System.out.println(common.describe(settings));
                List<PasskeyEval.Result> results = common.withProgress(p -> PasskeyEval.run(llm, settings, lengths, depths, trials, seed, p));
                System.out.print(EvalReports.passkeyTable(results, lengths, depths));
                System.out.println("process peak RSS: " + MemoryReport.processPeakText() + " (model, one KV cache per prompt, the JVM)");
                if (common.csv != null) EvalReports.passkeyCsv(results, common.csv);
                if (common.out != null) for (Path f : EvalReports.passkeyHeatmaps(results, lengths, depths, common.out)) System.out.println("wrote " + f);
            }
            return 0;
        }
    }

    @Command(name = "perplexity", mixinStandardHelpOptions = true,
            description = "Perplexity of long text in sliding windows, the last tokens of each window scored under dense and each AETHER setting.")
    static final class Perplexity implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--text", paramLabel = "FILE", description = "UTF-8 text (default: ../shared/data/tinyshakespeare.txt, else the bundled excerpt).")
        Path text;

        @Option(names = "--window", paramLabel = "N", description = "Window length in tokens (default: the model's context).")
        Integer window;

        @Option(names = "--scored-tokens", defaultValue = "256", paramLabel = "N", description = "Tokens scored at the end of each window (default ${DEFAULT-VALUE}).")
        int scored;

        @Option(names = "--windows", defaultValue = "4", paramLabel = "N", description = "Windows, evenly spaced over the text (default ${DEFAULT-VALUE}).")
        int windows;

        @Override
        public Integer call() throws Exception {
            if (scored < 1) throw new IllegalArgumentException("--scored-tokens must be >= 1, got " + scored);
            if (windows < 1) throw new IllegalArgumentException("--windows must be >= 1, got " + windows);
            if (window != null && window <= scored) throw new IllegalArgumentException("--window must exceed --scored-tokens (" + scored + "), got " + window);
            List<Setting> settings = common.settings();
            EvalText source = readText(text);
            String content = source.content();
            try (LLM llm = common.load()) {
                int w = window == null ? llm.contextLength() : window;
                System.out.println(common.describe(settings));
                System.out.println("text: " + source.source());
                System.out.println("window " + w + ", last " + scored + " tokens scored, " + windows + " windows");
                List<PerplexityEval.Result> results = common.withProgress(p -> PerplexityEval.run(llm, content, w, scored, windows, settings, p));
                System.out.print(EvalReports.perplexityTable(results));
                System.out.println("process peak RSS: " + MemoryReport.processPeakText() + " (model, one KV cache per prompt, the JVM)");
                if (common.csv != null) EvalReports.perplexityCsv(results, common.csv);
                if (common.out != null) System.out.println("wrote " + EvalReports.perplexityChart(results, common.out));
            }
            return 0;
        }
    }

    @Command(name = "agreement", mixinStandardHelpOptions = true,
            description = "Greedy agreement with dense over long prompts: teacher-forced (same history) and free-running.")
    static final class Agreement implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--text", paramLabel = "FILE", description = "UTF-8 text the prompts are cut from (default as for perplexity).")
        Path text;

        @Option(names = "--prompts", defaultValue = "4", paramLabel = "N", description = "Prompts (default ${DEFAULT-VALUE}).")
        int prompts;

        @Option(names = "--prompt-tokens", paramLabel = "N", description = "Tokens per prompt (default: the model's context less the generation).")
        Integer promptTokens;

        @Option(names = "--steps", defaultValue = "64", paramLabel = "N", description = "Tokens compared per prompt (default ${DEFAULT-VALUE}).")
        int steps;

        @Override
        public Integer call() throws Exception {
            if (prompts < 1) throw new IllegalArgumentException("--prompts must be >= 1, got " + prompts);
            if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
            List<Setting> settings = common.settings();
            EvalText source = readText(text);
            String content = source.content();
            System.out.println("text: " + source.source());
            try (LLM llm = common.load()) {
                int length = promptTokens == null ? llm.contextLength() - steps - 8 : promptTokens;
                if (length < 16 || length + steps + 6 > llm.contextLength()) {
                    throw new IllegalArgumentException("--prompt-tokens must be in [16, " + (llm.contextLength() - steps - 6) + "], got " + length);
                }
                int[] all = llm.tokenizer().encode(content, false, false);
                if (all.length < length) throw new IllegalArgumentException("the text has " + all.length + " tokens, fewer than one prompt of " + length);
                List<int[]> cut = new ArrayList<>();
                for (int i = 0; i < prompts; i++) {
                    int start = prompts == 1 ? 0 : (int) ((long) (all.length - length) * i / (prompts - 1));
                    cut.add(java.util.Arrays.copyOfRange(all, start, start + length));
                }
                System.out.println(common.describe(settings));
                System.out.println(prompts + " prompts of " + length + " tokens, " + steps + " tokens each");
                List<AgreementEval.Result> results = common.withProgress(p -> AgreementEval.run(llm, cut, steps, settings, p));
                System.out.print(EvalReports.agreementTable(results));
                System.out.println("process peak RSS: " + MemoryReport.processPeakText() + " (model, one KV cache per prompt, the JVM)");
                if (common.csv != null) EvalReports.agreementCsv(results, common.csv);
                if (common.out != null) System.out.println("wrote " + EvalReports.agreementChart(results, common.out));
            }
            return 0;
        }
    }

    /** An evaluation text and where it came from (printed, since the default depends on what is at hand). */
    record EvalText(String content, String source) {}

    /**
     * The text file, or the shared Shakespeare ({@code ../shared/data/tinyshakespeare.txt} beside
     * the working directory or the checkout), or the excerpt bundled for the demo.
     */
    static EvalText readText(Path file) throws IOException {
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new IOException("text file " + file + " does not exist");
            return new EvalText(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        }
        for (Path root : ModelLocations.sharedRoots()) {
            Path shared = root.resolve("data").resolve("tinyshakespeare.txt");
            if (Files.isRegularFile(shared)) return new EvalText(Files.readString(shared, StandardCharsets.UTF_8), shared.normalize().toString());
        }
        try (InputStream in = EvalCommand.class.getResourceAsStream("demo-shakespeare.txt")) {
            if (in == null) throw new IOException("no text: give --text FILE");
            return new EvalText(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    "the excerpt bundled for the demo (no ../shared/data/tinyshakespeare.txt found; --text FILE for another)");
        }
    }

}
