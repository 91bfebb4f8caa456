package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.RadarScore;
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
 * Study: calibrated budgets from a fixed sensitivity profile, with another radar score in a few
 * layers. Same windows and scoring as {@code aether eval perplexity}. Layer 0 keeps the base
 * config, so the budget scales are the base config's.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.LayerScores MODEL.gguf TEXT "s1 s2 ... s30" "7,8,17@KEY_SKETCH" ...
 * </pre>
 */
public class LayerScores {
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
            if (tokens == 1 && inner.config() != byLayer[layer]) inner.setConfig(byLayer[layer]);
            inner.attend(layer, position, tokens, q, heads, out);
        }
    }

    public static void main(String[] a) throws Exception {
        int window = 8192, scored = 256, windows = 4;
        String text = Files.readString(Path.of(a[1]));
        double[] profile = Arrays.stream(a[2].trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
        List<String> specs = Arrays.asList(a).subList(3, a.length);
        AetherConfig base = AetherConfig.defaults().toBuilder().selection(SelectionMode.TARGET_SPARSITY).targetSparsity(0.8)
                .layerBudgets(LayerBudgets.CALIBRATED).build();
        double[] sparsities = {0.8, 0.9};
        try (LLM llm = LLM.load(Path.of(a[0]), base)) {
            int[] all = llm.tokenizer().encode(text, false, false);
            Model m = llm.model();
            int L = m.config().layers();
            int S = specs.size() + 2;  // 0 dense, 1 profile (base score everywhere), 2.. specs
            AetherConfig[][][] plans = new AetherConfig[sparsities.length][S][];
            for (int si = 0; si < sparsities.length; si++) {
                AetherConfig c = base.toBuilder().targetSparsity(sparsities[si]).build();
                for (int s = 1; s < S; s++) {
                    plans[si][s] = new AetherConfig[L];
                    Arrays.fill(plans[si][s], c);
                    if (s < 2) continue;
                    String[] parts = specs.get(s - 2).split("@");
                    AetherConfig other = c.toBuilder().radarScore(RadarScore.valueOf(parts[1])).build();
                    for (String l : parts[0].split(",")) plans[si][s][Integer.parseInt(l)] = other;
                }
            }
            double[][] nll = new double[sparsities.length][S];
            long[][] kept = new long[sparsities.length][S], tot = new long[sparsities.length][S];
            for (int w = 0; w < windows; w++) {
                int start = (int) ((long) (all.length - window) * w / (windows - 1));
                int[] context = Arrays.copyOfRange(all, start, start + window - scored);
                int[] target = Arrays.copyOfRange(all, start + window - scored, start + window);
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, context, scored, base.toBuilder().layerBudgets(LayerBudgets.UNIFORM).build())) {
                    for (int si = 0; si < sparsities.length; si++) {
                        for (int s = 0; s < S; s++) {
                            if (s == 0 && si > 0) { nll[si][0] = nll[0][0]; continue; }
                            p.rewind(s == 0 ? null : plans[si][s][0]);
                            if (s > 0) p.cache().setLayerSensitivity(profile);
                            KvCache c = s == 0 ? p.cache() : new PerLayer(p.cache(), plans[si][s]);
                            double sum = OraclePerplexity.nll(p.promptLogits(), target[0]);
                            int pos = p.promptLength();
                            for (int i = 0; i + 1 < scored; i++) sum += OraclePerplexity.nll(m.decode(target[i], pos++, c), target[i + 1]);
                            nll[si][s] += sum;
                            kept[si][s] += p.cache().total().blocksKept(); tot[si][s] += p.cache().total().blocksTotal();
                        }
                    }
                    System.err.printf("window %d done%n", w);
                }
            }
            double dense = Math.exp(nll[0][0] / (windows * scored));
            System.out.printf("dense %.4f%n", dense);
            for (int si = 0; si < sparsities.length; si++) {
                for (int s = 1; s < S; s++) {
                    double ppl = Math.exp(nll[si][s] / (windows * scored));
                    System.out.printf("%.1f %-32s %.4f %+.2f%% sparsity %.1f%%%n", sparsities[si], s == 1 ? "profile" : specs.get(s - 2), ppl,
                            100 * (ppl / dense - 1), 100.0 * (1 - (double) kept[si][s] / tot[si][s]));
                }
            }
        }
    }
}
