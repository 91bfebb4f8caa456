package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.engine.LLM;
import ai.aether.kernels.Parallel;
import ai.aether.model.LayerSensitivityProfile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code aether calibrate}: measures a model's layer-sensitivity profile on running text and
 * stores it where {@code Model.load} finds it, so CALIBRATED layer budgets need no per-prompt
 * probe. Window c of N starts at fraction (2c+1)/(2N) of the text's free range; for N <= 6 on the
 * shipped text none overlaps {@code aether eval perplexity}'s default windows, so that evaluation
 * stays on text the profile never saw.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = "Measure a model's per-layer sensitivity to attention error on running text (for --layer-budgets CALIBRATED) "
                + "and store it in the profiles directory ($" + LayerSensitivityProfile.PROFILES_DIR_ENV + ", else ~/.cache/aether/profiles).")
public final class CalibrateCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Option(names = "--text", paramLabel = "FILE", description = "UTF-8 running text (default: ../shared/data/tinyshakespeare.txt, else the bundled excerpt).")
    Path text;

    @Option(names = "--windows", defaultValue = "6", paramLabel = "N",
            description = "Windows, spread evenly over the text (default ${DEFAULT-VALUE}; for N <= 6 none overlaps `eval perplexity`'s 4 default windows).")
    int windows;

    @Option(names = "--window", paramLabel = "N", description = "Tokens per window (default: the model's context less 256, what `eval perplexity` prefills).")
    Integer window;

    @Option(names = "--tokens", defaultValue = "16", paramLabel = "N", description = "Last tokens of each window re-decoded per layer (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = {"--target-sparsity", "--sparsity"}, defaultValue = "0.8", paramLabel = "S", description = "Sparsity the probes run at, in (0, 1) (default ${DEFAULT-VALUE}).")
    double sparsity;

    @Option(names = "--block-size", defaultValue = "64", paramLabel = "N", description = "Tokens per KV block the probes select (default ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the profile here instead of the profiles directory (Model.load will not find it there).")
    Path out;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: AETHER_THREADS or all cores).")
    Integer threads;

    @Option(names = "--no-progress", description = "No progress bar (for logs).")
    boolean noProgress;

    /** Tokens `eval perplexity` scores at the end of each window; the default window prefills the rest. */
    private static final int SCORED = 256;

    @Override
    public Integer call() throws Exception {
        if (windows < 1) throw new IllegalArgumentException("--windows must be >= 1, got " + windows);
        if (tokens < 1 || tokens > 256) throw new IllegalArgumentException("--tokens must be in [1, 256], got " + tokens);
        if (!(sparsity > 0 && sparsity < 1)) throw new IllegalArgumentException("--target-sparsity must be in (0, 1), got " + sparsity);
        if (threads != null) Parallel.setThreads(threads);
        EvalCommand.EvalText evalText = EvalCommand.readText(text);
        String content = evalText.content();
        System.out.println("text: " + evalText.source());
        Path file = model.resolveOr("smollm2").path();
        String fingerprint = LayerSensitivityProfile.fingerprint(file);
        try (LLM llm = LLM.load(file)) {
            int length = window == null ? llm.contextLength() - SCORED : window;
            if (length < 1 || length > llm.contextLength()) {
                throw new IllegalArgumentException("--window must be in [1, " + llm.contextLength() + "], got " + length);
            }
            int[] all = llm.tokenizer().encode(content, false, false);
            if (all.length < length) throw new IllegalArgumentException("the text has " + all.length + " tokens, fewer than one window of " + length);
            List<int[]> cut = new ArrayList<>();
            for (int c = 0; c < windows; c++) {
                int start = (int) ((long) (all.length - length) * (2 * c + 1) / (2L * windows));
                cut.add(Arrays.copyOfRange(all, start, start + length));
            }
            String source = (text == null ? "default text" : text.getFileName().toString()) + ", " + windows + " windows of " + length + " tokens";
            AetherConfig config = AetherConfig.defaults().toBuilder().blockSize(blockSize).targetSparsity(sparsity).build();
            System.out.printf(Locale.ROOT, "calibrating %s (%s) on %s, last %d tokens of each probed at sparsity %.2f%n",
                    llm.model().config().name(), fingerprint, source, tokens, sparsity);
            LayerSensitivityProfile profile = EvalCommand.withProgress(noProgress, p -> {
                p.begin("calibrate", windows);
                return LayerSensitivityProfile.measure(llm.model(), fingerprint, cut, config, tokens, source,
                        done -> p.advance("window " + done + " of " + windows));
            });
            System.out.print(table(profile));
            Path target = out != null ? out
                    : LayerSensitivityProfile.userFile(LayerSensitivityProfile.userDirectory(System.getenv()), fingerprint);
            if (target.getParent() != null) Files.createDirectories(target.getParent());
            Files.writeString(target, profile.toJson());
            System.out.println("wrote " + target);
        }
        return 0;
    }

    /** One line per layer: the sensitivity and a bar on a log scale. */
    static String table(LayerSensitivityProfile profile) {
        double[] s = profile.sensitivity();
        double max = Arrays.stream(s).max().orElse(1);
        StringBuilder sb = new StringBuilder("layer  sensitivity (KL per squared relative attention error)\n");
        for (int l = 0; l < s.length; l++) {
            int width = s[l] <= 0 ? 0 : (int) Math.max(0, Math.round(8 * (Math.log10(s[l] / max) + 4)));
            sb.append(String.format(Locale.ROOT, "%5d  %10.4g  %s%n", l, s[l], "#".repeat(width)));
        }
        return sb.toString();
    }
}
