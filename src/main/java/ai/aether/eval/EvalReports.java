package ai.aether.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/** CSV and PNG output of the evaluations, and their plain-text summary tables. */
public final class EvalReports {

    private EvalReports() {}

    /** The settings in the order they first appear in {@code results}. */
    public static List<String> passkeySettings(List<PasskeyEval.Result> results) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (PasskeyEval.Result r : results) names.add(r.setting());
        return new ArrayList<>(names);
    }

    /** One table per setting: rows are context lengths, columns needle depths, cells accuracy. */
    public static String passkeyTable(List<PasskeyEval.Result> results, int[] lengths, double[] depths) {
        StringBuilder sb = new StringBuilder();
        for (String setting : passkeySettings(results)) {
            int n = 0, correct = 0;
            double sparsity = 0;
            for (PasskeyEval.Result r : results) {
                if (!r.setting().equals(setting)) continue;
                n++;
                if (r.correct()) correct++;
                sparsity += r.sparsity();
            }
            sb.append(String.format(Locale.ROOT, "%s: accuracy %.1f%% (%d/%d), mean decode sparsity %.1f%%%n", setting,
                    100.0 * correct / n, correct, n, 100 * sparsity / n));
            sb.append(String.format(Locale.ROOT, "%8s", "length"));
            for (double d : depths) sb.append(String.format(Locale.ROOT, "%8s", Math.round(d * 100) + "%"));
            sb.append('\n');
            for (int length : lengths) {
                sb.append(String.format(Locale.ROOT, "%8d", length));
                for (double d : depths) sb.append(String.format(Locale.ROOT, "%8.2f", PasskeyEval.accuracy(results, setting, length, d)));
                sb.append('\n');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static void passkeyCsv(List<PasskeyEval.Result> results, Path file) throws IOException {
        StringBuilder sb = new StringBuilder("setting,context_length,depth,trial,key,correct,sparsity,answer\n");
        for (PasskeyEval.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%.2f,%d,%s,%b,%.4f,%s%n", csv(r.setting()), r.contextLength(), r.depth(), r.trial(),
                    r.key(), r.correct(), r.sparsity(), csv(r.answer())));
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    /** One heat map PNG per setting (accuracy by context length and depth); returns the files written. */
    public static List<Path> passkeyHeatmaps(List<PasskeyEval.Result> results, int[] lengths, double[] depths, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (String setting : passkeySettings(results)) {
            HeatMapChart chart = new HeatMapChartBuilder().width(640).height(420)
                    .title("Pass-key accuracy: " + setting).xAxisTitle("needle depth (%)").yAxisTitle("context length (tokens)").build();
            chart.getStyler().setMin(0).setMax(1).setShowValue(true)
                    .setRangeColors(new Color[] {new Color(0xD7301F), new Color(0xFDBB84), new Color(0x1A9850)});
            List<Integer> x = new ArrayList<>(), y = new ArrayList<>();
            for (double d : depths) x.add((int) Math.round(d * 100));
            for (int length : lengths) y.add(length);
            List<Number[]> cells = new ArrayList<>();
            for (int i = 0; i < depths.length; i++) {
                for (int j = 0; j < lengths.length; j++) {
                    double a = PasskeyEval.accuracy(results, setting, lengths[j], depths[i]);
                    cells.add(new Number[] {i, j, Double.isNaN(a) ? 0 : a});
                }
            }
            chart.addSeries("accuracy", x, y, cells);
            Path file = dir.resolve("passkey-" + setting.replaceAll("[^A-Za-z0-9.]+", "-") + ".png");
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
            written.add(file);
        }
        return written;
    }

    public static String perplexityTable(List<PerplexityEval.Result> results) {
        double dense = results.stream().filter(r -> r.setting().equals("dense")).mapToDouble(PerplexityEval.Result::perplexity).findFirst().orElse(Double.NaN);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-28s %10s %12s %12s%n", "setting", "tokens", "perplexity", "vs dense"));
        for (PerplexityEval.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-28s %10d %12.4f %+11.2f%%%n", r.setting(), r.scoredTokens(), r.perplexity(),
                    100 * (r.perplexity() / dense - 1)));
        }
        return sb.toString();
    }

    public static void perplexityCsv(List<PerplexityEval.Result> results, Path file) throws IOException {
        StringBuilder sb = new StringBuilder("setting,windows,scored_tokens,mean_nll,perplexity\n");
        for (PerplexityEval.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%.6f,%.6f%n", csv(r.setting()), r.windows(), r.scoredTokens(), r.meanNll(), r.perplexity()));
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    public static String agreementTable(List<AgreementEval.Result> results) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (AgreementEval.Result r : results) names.add(r.setting());
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-28s %9s %16s %10s %18s %16s %9s%n", "setting", "prompts",
                "teacher-forced", "mean KL", "free-run prefix", "free-run by pos.", "sparsity"));
        for (String name : names) {
            int prompts = 0, steps = 0, agreeing = 0, prefix = 0;
            double kl = 0, free = 0, sparsity = 0;
            for (AgreementEval.Result r : results) {
                if (!r.setting().equals(name)) continue;
                prompts++;
                steps += r.steps();
                agreeing += r.teacherForcedAgreeing();
                kl += r.meanKl();
                prefix += r.freeRunningPrefix();
                free += r.freeRunningAgreement();
                sparsity += r.sparsity();
            }
            sb.append(String.format(Locale.ROOT, "%-28s %9d %15.1f%% %10.4f %12.1f tokens %15.1f%% %8.1f%%%n", name, prompts,
                    100.0 * agreeing / steps, kl / prompts, (double) prefix / prompts, 100 * free / prompts, 100 * sparsity / prompts));
        }
        return sb.toString();
    }

    public static void agreementCsv(List<AgreementEval.Result> results, Path file) throws IOException {
        StringBuilder sb = new StringBuilder("setting,prompt,prompt_tokens,steps,teacher_forced_agreeing,teacher_forced_share,mean_kl,"
                + "free_running_prefix,free_running_agreement,sparsity\n");
        for (AgreementEval.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%.4f,%.6f,%d,%.4f,%.4f%n", csv(r.setting()), r.prompt(), r.promptTokens(),
                    r.steps(), r.teacherForcedAgreeing(), r.teacherForcedShare(), r.meanKl(), r.freeRunningPrefix(), r.freeRunningAgreement(),
                    r.sparsity()));
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"").replace("\n", " ") + "\"" : s;
    }
}
