package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.SelectionMode;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.model.AetherKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.Model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * Study behind docs/quality.md "Calibrated layer budgets": perplexity (same windows as
 * {@code aether eval perplexity}) when each layer has its own TARGET_SPARSITY. A setting is
 * {@code "BASE;L1,L2@S;L3@S2"}: every layer at sparsity BASE, the listed layers at their own.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/LayerBudget.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.LayerBudget MODEL.gguf TEXT "0.8" "0.8125;7,8,20@0.6"
 * </pre>
 */
public class LayerBudget {
    static final class PerLayer implements KvCache {
        final AetherKvCache inner; final AetherConfig[] byLayer;
        PerLayer(AetherKvCache inner, AetherConfig[] byLayer) { this.inner = inner; this.byLayer = byLayer; }
        public int layers() { return inner.layers(); }
        public int kvHeads() { return inner.kvHeads(); }
        public int headDim() { return inner.headDim(); }
        public int capacity() { return inner.capacity(); }
        public void write(int layer, int position, int tokens, float[] keys, float[] values) { inner.write(layer, position, tokens, keys, values); }
        public void truncate(int length) { inner.truncate(length); }
        public void attend(int layer, int position, int tokens, float[] q, int heads, float[] out) {
            if (tokens == 1) inner.setConfig(byLayer[layer]);
            inner.attend(layer, position, tokens, q, heads, out);
        }
    }

    public static void main(String[] a) throws Exception {
        int window = 8192, scored = 256, windows = 4;
        String text = Files.readString(Path.of(a[1]));
        AetherConfig cfg = AetherConfig.defaults().toBuilder().selection(SelectionMode.TARGET_SPARSITY).targetSparsity(0.8)
                .layerBudgets(ai.aether.attention.LayerBudgets.UNIFORM).build();
        List<String> specs = Arrays.asList(a).subList(2, a.length);
        try (LLM llm = LLM.load(Path.of(a[0]), cfg)) {
            int[] all = llm.tokenizer().encode(text, false, false);
            Model m = llm.model();
            int L = m.config().layers();
            int S = specs.size() + 1;
            AetherConfig[][] plans = new AetherConfig[S][];
            for (int s = 1; s < S; s++) {
                String[] parts = specs.get(s - 1).split(";");
                plans[s] = new AetherConfig[L];
                Arrays.fill(plans[s], cfg.toBuilder().targetSparsity(Double.parseDouble(parts[0])).build());
                for (int i = 1; i < parts.length; i++) {
                    String[] kv = parts[i].split("@");
                    AetherConfig c = cfg.toBuilder().targetSparsity(Double.parseDouble(kv[1])).build();
                    for (String l : kv[0].split(",")) plans[s][Integer.parseInt(l)] = c;
                }
            }
            double[] nll = new double[S]; long[] kept = new long[S], tot = new long[S];
            for (int w = 0; w < windows; w++) {
                int start = (int) ((long) (all.length - window) * w / (windows - 1));
                int[] context = Arrays.copyOfRange(all, start, start + window - scored);
                int[] target = Arrays.copyOfRange(all, start + window - scored, start + window);
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, context, scored, cfg)) {
                    for (int s = 0; s < S; s++) {
                        p.rewind(s == 0 ? null : cfg);
                        p.cache().resetStats();
                        KvCache c = s == 0 ? p.cache() : new PerLayer(p.cache(), plans[s]);
                        double sum = nll(p.promptLogits(), target[0]);
                        int pos = p.promptLength();
                        for (int i = 0; i + 1 < scored; i++) sum += nll(m.decode(target[i], pos++, c), target[i + 1]);
                        nll[s] += sum;
                        kept[s] += p.cache().total().blocksKept(); tot[s] += p.cache().total().blocksTotal();
                    }
                    System.err.printf("window %d done%n", w);
                }
            }
            double dense = Math.exp(nll[0] / (windows * scored));
            System.out.printf("dense %.4f%n", dense);
            for (int s = 1; s < S; s++) {
                double ppl = Math.exp(nll[s] / (windows * scored));
                System.out.printf("%-40s %.4f (%+.2f%%) sparsity %.4f%n", specs.get(s - 1), ppl, 100 * (ppl / dense - 1), 1 - (double) kept[s] / tot[s]);
            }
        }
    }
    static double nll(float[] logits, int token) { double max = -1e300; for (float l : logits) max = Math.max(max, l); double s = 0; for (float l : logits) s += Math.exp(l - max); return max + Math.log(s) - logits[token]; }
}
