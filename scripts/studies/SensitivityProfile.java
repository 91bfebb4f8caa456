package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.SelectionMode;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.model.LayerSensitivityProbe;
import ai.aether.model.Model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * Study: do per-layer sensitivities measured once on calibration text (windows disjoint from the
 * evaluation's) do as well as the per-prompt probe? Calibration windows start half-way between
 * the 4 evaluation windows of {@code aether eval perplexity}; each is prefilled and probed with
 * {@code PROBE} tokens; the geometric mean per layer is the profile. The evaluation windows are
 * then scored (last 256 tokens) under uniform budgets, the per-prompt probe, and the profile.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/SensitivityProfile.java scripts/studies/OraclePerplexity.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.SensitivityProfile MODEL.gguf TEXT [PROBE]
 * </pre>
 */
public class SensitivityProfile {
    public static void main(String[] a) throws Exception {
        int window = 8192, scored = 256, windows = 4, probe = a.length > 2 ? Integer.parseInt(a[2]) : 16;
        String text = Files.readString(Path.of(a[1]));
        AetherConfig uniform = AetherConfig.defaults().toBuilder().selection(SelectionMode.TARGET_SPARSITY).targetSparsity(0.8)
                .layerBudgets(LayerBudgets.UNIFORM).build();
        AetherConfig calibrated = uniform.toBuilder().layerBudgets(LayerBudgets.CALIBRATED).build();
        try (LLM llm = LLM.load(Path.of(a[0]), uniform)) {
            int[] all = llm.tokenizer().encode(text, false, false);
            Model m = llm.model();
            int L = m.config().layers();
            // calibration: windows half-way between the evaluation windows
            double[] logSum4 = new double[L], logSumP = new double[L];
            int cal = windows - 1;
            for (int c = 0; c < cal; c++) {
                int start = (int) ((long) (all.length - window) * (2 * c + 1) / (2 * (windows - 1)));
                int[] context = Arrays.copyOfRange(all, start, start + window - scored);
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, context, scored, calibrated)) {
                    double[] s4 = p.cache().layerSensitivity();
                    LayerSensitivityProbe.run(m, p.cache(), context, calibrated, probe);
                    double[] sp = p.cache().layerSensitivity();
                    for (int l = 0; l < L; l++) { logSum4[l] += Math.log(Math.max(s4[l], 1e-12)); logSumP[l] += Math.log(Math.max(sp[l], 1e-12)); }
                    System.err.printf("calibration window %d (start %d): 4-token %s%n  %d-token %s%n", c, start, fmt(s4), probe, fmt(sp));
                }
            }
            double[] prof4 = new double[L], profP = new double[L];
            for (int l = 0; l < L; l++) { prof4[l] = Math.exp(logSum4[l] / cal); profP[l] = Math.exp(logSumP[l] / cal); }
            System.out.println("profile 4-token:  " + fmt(prof4));
            System.out.println("profile " + probe + "-token: " + fmt(profP));

            String[] names = {"dense", "uniform", "prompt probe (4)", "profile 4", "profile " + probe, "profile " + probe + " unshrunk", "blend prompt+profile " + probe};
            double[] sparsities = {0.8, 0.9};
            int S = 1 + names.length - 1;
            double[][] nll = new double[sparsities.length][names.length];
            long[][] kept = new long[sparsities.length][names.length], total = new long[sparsities.length][names.length];
            for (int w = 0; w < windows; w++) {
                int start = (int) ((long) (all.length - window) * w / (windows - 1));
                int[] context = Arrays.copyOfRange(all, start, start + window - scored);
                int[] target = Arrays.copyOfRange(all, start + window - scored, start + window);
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, context, scored, calibrated)) {
                    double[] prompt = p.cache().layerSensitivity();
                    double[] blend = new double[L];
                    for (int l = 0; l < L; l++) blend[l] = Math.sqrt(Math.max(prompt[l], 1e-12) * profP[l]);
                    for (int si = 0; si < sparsities.length; si++) {
                        for (int s = 0; s < names.length; s++) {
                            if (si > 0 && s == 0) { nll[si][0] = nll[0][0]; continue; }
                            AetherConfig cfg = switch (s) {
                                case 0 -> null;
                                case 1 -> uniform.toBuilder().targetSparsity(sparsities[si]).build();
                                default -> calibrated.toBuilder().targetSparsity(sparsities[si]).build();
                            };
                            p.rewind(cfg);
                            double[] sens = switch (s) {
                                case 2 -> prompt; case 3 -> prof4; case 4 -> profP; case 5 -> unshrink(profP); case 6 -> blend; default -> null;
                            };
                            if (sens != null) p.cache().setLayerSensitivity(sens);
                            double sum = OraclePerplexity.nll(p.promptLogits(), target[0]);
                            int pos = p.promptLength();
                            for (int i = 0; i + 1 < scored; i++) sum += OraclePerplexity.nll(m.decode(target[i], pos++, p.cache()), target[i + 1]);
                            nll[si][s] += sum;
                            kept[si][s] += p.cache().total().blocksKept();
                            total[si][s] += p.cache().total().blocksTotal();
                        }
                    }
                    System.err.printf("window %d done%n", w);
                }
            }
            double dense = Math.exp(nll[0][0] / (windows * scored));
            System.out.printf("dense %.4f%n", dense);
            for (int si = 0; si < sparsities.length; si++) {
                for (int s = 1; s < names.length; s++) {
                    double ppl = Math.exp(nll[si][s] / (windows * scored));
                    System.out.printf("%.1f %-28s %.4f %+.2f%% sparsity %.1f%%%n", sparsities[si], names[s], ppl, 100 * (ppl / dense - 1),
                            100.0 * (1 - (double) kept[si][s] / total[si][s]));
                }
            }
        }
    }

    /** Values whose half-way shrink (LayerBudgetCalibration.budgets) gives back {@code s}. */
    static double[] unshrink(double[] s) {
        double mean = 0;
        for (double v : s) mean += Math.log(v) / s.length;
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) out[i] = Math.exp(2 * Math.log(s[i]) - mean);
        return out;
    }

    static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) b.append(String.format("%.3g ", x));
        return b.toString();
    }
}
