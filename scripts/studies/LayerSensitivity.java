package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.model.Model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Study behind docs/quality.md "Calibrated layer budgets": which layers' block choice the perplexity
 * depends on. Same windows and scoring as {@code aether eval perplexity} (4 windows of 8,192
 * Shakespeare tokens, the last 256 scored); AETHER at 80% (uniform budgets) everywhere, except one
 * layer at a time, whose decode attention reads the sink, the local window and the blocks with the
 * largest TRUE attention mass (float64 from every stored key: the oracle, {@link OraclePerplexity.OracleCache}). Prints each layer's gain
 * over AETHER. ~16 minutes on 2 cores.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/LayerSensitivity.java scripts/studies/OraclePerplexity.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.LayerSensitivity MODEL.gguf TEXT
 * </pre>
 */
public class LayerSensitivity {
    public static void main(String[] a) throws Exception {
        String model = a[0];
        int window = 8192, scored = Integer.parseInt(a.length > 2 ? a[2] : "256"), windows = 4;
        String text = Files.readString(Path.of(a[1]));
        AetherConfig cfg = AetherConfig.defaults().toBuilder().selection(ai.aether.attention.SelectionMode.TARGET_SPARSITY).targetSparsity(0.8)
                .layerBudgets(ai.aether.attention.LayerBudgets.UNIFORM).build();
        try (LLM llm = LLM.load(Path.of(model), cfg)) {
            int[] all = llm.tokenizer().encode(text, false, false);
            Model m = llm.model();
            int L = m.config().layers();
            int S = L + 2; // 0 dense, 1 aether, 2.. oracle at layer s-2
            double[] nll = new double[S];
            for (int w = 0; w < windows; w++) {
                int start = (int) ((long) (all.length - window) * w / (windows - 1));
                int[] context = Arrays.copyOfRange(all, start, start + window - scored);
                int[] target = Arrays.copyOfRange(all, start + window - scored, start + window);
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, context, scored, cfg)) {
                    for (int s = 0; s < S; s++) {
                        p.rewind(s == 0 ? null : cfg);
                        OraclePerplexity.OracleCache oc = new OraclePerplexity.OracleCache(p.cache(), 0.8, m.config().heads());
                        oc.oracleLayer = s - 2;
                        double sum = OraclePerplexity.nll(p.promptLogits(), target[0]);
                        int pos = p.promptLength();
                        for (int i = 0; i + 1 < scored; i++) sum += OraclePerplexity.nll(m.decode(target[i], pos++, oc), target[i + 1]);
                        nll[s] += sum;
                    }
                    System.err.printf("window %d done%n", w);
                }
            }
            double dense = Math.exp(nll[0] / (windows * scored)), aether = Math.exp(nll[1] / (windows * scored));
            System.out.printf("dense %.4f aether %.4f (%+.2f%%)%n", dense, aether, 100 * (aether / dense - 1));
            for (int s = 2; s < S; s++) {
                double ppl = Math.exp(nll[s] / (windows * scored));
                System.out.printf("oracle at layer %2d: %.4f (%+.2f%% vs dense, gain %.2f points)%n", s - 2, ppl, 100 * (ppl / dense - 1), 100 * (aether - ppl) / dense);
            }
        }
    }
}
