package ai.aether.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
            sb.append(String.format(Locale.ROOT, "%s: accuracy %.1f%% (%d/%d), mean decode sparsity %.1f%%%s%n", setting,
                    100.0 * correct / n, correct, n, 100 * sparsity / n, versusDense(results, setting, lengths, depths)));
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

    /**
     * ", same verdict as dense on A of B prompts, C of D cells equal" for a setting other than
     * "dense" when dense ran on the same cases (what "equal to dense" targets are about); else "".
     */
    static String versusDense(List<PasskeyEval.Result> results, String setting, int[] lengths, double[] depths) {
        if (setting.equals("dense")) return "";
        Map<String, Boolean> dense = new HashMap<>();
        for (PasskeyEval.Result r : results) if (r.setting().equals("dense")) dense.put(caseKey(r), r.correct());
        if (dense.isEmpty()) return "";
        int same = 0, compared = 0;
        for (PasskeyEval.Result r : results) {
            Boolean d = r.setting().equals(setting) ? dense.get(caseKey(r)) : null;
            if (d == null) continue;
            compared++;
            if (d == r.correct()) same++;
        }
        int cells = 0, equal = 0;
        for (int length : lengths) {
            for (double depth : depths) {
                double a = PasskeyEval.accuracy(results, setting, length, depth), b = PasskeyEval.accuracy(results, "dense", length, depth);
                if (Double.isNaN(a) || Double.isNaN(b)) continue;
                cells++;
                if (a == b) equal++;
            }
        }
        return String.format(Locale.ROOT, "; same verdict as dense on %d of %d prompts, %d of %d cells equal", same, compared, equal, cells);
    }

    private static String caseKey(PasskeyEval.Result r) {
        return r.contextLength() + "/" + r.depth() + "/" + r.trial();
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
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-28s %10s %12s %12s %9s%n", "setting", "tokens", "perplexity", "vs dense",
                "sparsity"));
        for (PerplexityEval.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-28s %10d %12.4f %+11.2f%% %8.1f%%%n", r.setting(), r.scoredTokens(), r.perplexity(),
                    100 * (r.perplexity() / dense - 1), 100 * r.sparsity()));
        }
        return sb.toString();
    }

    public static void perplexityCsv(List<PerplexityEval.Result> results, Path file) throws IOException {
        StringBuilder sb = new StringBuilder("setting,windows,scored_tokens,mean_nll,perplexity,sparsity\n");
        for (PerplexityEval.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%.6f,%.6f,%.4f%n", csv(r.setting()), r.windows(), r.scoredTokens(), r.meanNll(),
                    r.perplexity(), r.sparsity()));
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    /** One setting's agreement over every prompt. */
    public record AgreementSummary(String setting, int prompts, double teacherForcedShare, double meanKl, double freeRunningPrefix,
                                   double freeRunningAgreement, double sparsity) {}

    /** Per setting, in order of appearance: teacher-forced share over all steps, the rest averaged over prompts. */
    public static List<AgreementSummary> agreementSummaries(List<AgreementEval.Result> results) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (AgreementEval.Result r : results) names.add(r.setting());
        List<AgreementSummary> out = new ArrayList<>();
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
            out.add(new AgreementSummary(name, prompts, (double) agreeing / steps, kl / prompts, (double) prefix / prompts, free / prompts,
                    sparsity / prompts));
        }
        return out;
    }

    public static String agreementTable(List<AgreementEval.Result> results) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-28s %9s %16s %10s %18s %16s %9s%n", "setting", "prompts",
                "teacher-forced", "mean KL", "free-run prefix", "free-run by pos.", "sparsity"));
        for (AgreementSummary a : agreementSummaries(results)) {
            sb.append(String.format(Locale.ROOT, "%-28s %9d %15.1f%% %10.4f %12.1f tokens %15.1f%% %8.1f%%%n", a.setting(), a.prompts(),
                    100 * a.teacherForcedShare(), a.meanKl(), a.freeRunningPrefix(), 100 * a.freeRunningAgreement(), 100 * a.sparsity()));
        }
        return sb.toString();
    }

    /** Bars of each setting's perplexity relative to dense, in percent; returns the PNG written. */
    public static Path perplexityChart(List<PerplexityEval.Result> results, Path dir) throws IOException {
        double dense = results.stream().filter(r -> r.setting().equals("dense")).mapToDouble(PerplexityEval.Result::perplexity).findFirst().orElse(Double.NaN);
        List<String> names = new ArrayList<>();
        List<Double> increase = new ArrayList<>();
        for (PerplexityEval.Result r : results) {
            if (r.setting().equals("dense")) continue;
            names.add(String.format(Locale.ROOT, "%s (%.0f%% sparse)", r.setting(), 100 * r.sparsity()));
            increase.add(100 * (r.perplexity() / dense - 1));
        }
        CategoryChart chart = barChart(String.format(Locale.ROOT, "Perplexity vs dense (dense %.3f)", dense), "perplexity increase (%)");
        chart.addSeries("perplexity vs dense", names, increase);
        return save(chart, dir.resolve("perplexity.png"));
    }

    /** Bars of each setting's teacher-forced and free-running agreement with dense; returns the PNG written. */
    public static Path agreementChart(List<AgreementEval.Result> results, Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> forced = new ArrayList<>(), free = new ArrayList<>();
        for (AgreementSummary a : agreementSummaries(results)) {
            names.add(String.format(Locale.ROOT, "%s (%.0f%% sparse)", a.setting(), 100 * a.sparsity()));
            forced.add(100 * a.teacherForcedShare());
            free.add(100 * a.freeRunningAgreement());
        }
        CategoryChart chart = barChart("Greedy agreement with dense", "tokens equal to dense (%)");
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
        chart.addSeries("teacher-forced", names, forced);
        chart.addSeries("free-running, by position", names, free);
        return save(chart, dir.resolve("agreement.png"));
    }

    private static CategoryChart barChart(String title, String yAxis) {
        CategoryChart chart = new CategoryChartBuilder().width(720).height(420).title(title).yAxisTitle(yAxis).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setDecimalPattern("0.0");
        return chart;
    }

    private static Path save(CategoryChart chart, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
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
