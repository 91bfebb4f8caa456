package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.SequenceKvCache;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.kernels.attention.AttentionBackend;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.model.AetherKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.Model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Study behind docs/quality.md "Perplexity": the perplexity that the best possible block choice
 * reaches at a given block sparsity. Same windows and scoring as {@code aether eval perplexity}
 * (4 windows of 8,192 Shakespeare tokens, the last 256 scored); decode attention reads the sink,
 * the 4-block local window and the blocks with the largest TRUE attention mass (float64 from every
 * stored key, summed over the KV head's query heads: the oracle, which no estimator can beat at
 * the same block budget). Slow (every step scores every key): ~15 minutes on 2 cores.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/OraclePerplexity.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.OraclePerplexity MODEL.gguf TEXT
 * </pre>
 */
public class OraclePerplexity {
    static final class OracleCache implements KvCache {
        final AetherKvCache inner; final double sparsity; final int H; final AttentionBackend backend = AttentionBackend.load();
        int oracleLayer = -1;  // -1: every layer reads oracle blocks; else only this one (the others attend through inner)
        long kept, total;
        OracleCache(AetherKvCache inner, double sparsity, int heads) { this.inner = inner; this.sparsity = sparsity; this.H = heads; }
        public int layers() { return inner.layers(); }
        public int kvHeads() { return inner.kvHeads(); }
        public int headDim() { return inner.headDim(); }
        public int capacity() { return inner.capacity(); }
        public void write(int layer, int position, int tokens, float[] keys, float[] values) { inner.write(layer, position, tokens, keys, values); }
        public void truncate(int length) { inner.truncate(length); }
        public void attend(int layer, int position, int tokens, float[] q, int heads, float[] out) {
            if (tokens > 1 || sparsity <= 0 || (oracleLayer >= 0 && layer != oracleLayer)) { inner.attend(layer, position, tokens, q, heads, out); return; }
            SequenceKvCache seq = inner.sequence();
            int n = seq.length(layer), KV = inner.kvHeads(), D = inner.headDim(), G = H / KV, B = (n + 63) / 64;
            float[] k = inner.readLayer(layer, n)[0];
            DecodePlan plan = new DecodePlan(1, H, KV, D, false);
            int budget = (int) Math.ceil((1 - sparsity) * B - 1e-9);
            for (int kh = 0; kh < KV; kh++) {
                double[] mass = new double[B];
                for (int r = 0; r < G; r++) {
                    int qo = (kh * G + r) * D; double[] lg = new double[n]; double mx = -1e300;
                    for (int t = 0; t < n; t++) { double s = 0; int ko = (kh * n + t) * D; for (int d = 0; d < D; d++) s += q[qo + d] * k[ko + d]; lg[t] = s; mx = Math.max(mx, s); }
                    double z = 0; double[] bm = new double[B];
                    for (int t = 0; t < n; t++) { double e = Math.exp((lg[t] - mx) / 8.0); z += e; bm[t / 64] += e; }
                    for (int b = 0; b < B; b++) mass[b] += bm[b] / z;
                }
                boolean[] keep = new boolean[B]; int nf = 0;
                for (int b = 0; b < B; b++) { keep[b] = b < 1 || b >= B - 4; if (keep[b]) nf++; }
                Integer[] idx = new Integer[B]; for (int b = 0; b < B; b++) idx[b] = b;
                Arrays.sort(idx, (x, y) -> Double.compare(mass[y], mass[x]));
                int pick = Math.max(0, budget - nf);
                for (int i = 0; i < B && pick > 0; i++) if (!keep[idx[i]]) { keep[idx[i]] = true; pick--; }
                plan.clearList(0, kh);
                for (int b = 0; b < B; b++) if (keep[b]) { plan.addBlock(0, kh, seq.blockId(layer, kh, b), b); kept++; }
                total += B;
            }
            plan.setSequenceLength(0, n);
            backend.plan(plan, seq.pool().blocks());
            backend.decode(seq.pool().blocks(), plan, q, out);
        }
    }

    public static void main(String[] a) throws Exception {
        String model = a[0];
        int window = 8192, scored = 256, windows = 4;
        String text = Files.readString(Path.of(a[1]));
        AetherConfig cfg = AetherConfig.defaults().toBuilder().layerBudgets(ai.aether.attention.LayerBudgets.UNIFORM).build();
        try (LLM llm = LLM.load(Path.of(model), cfg)) {
            int[] all = llm.tokenizer().encode(text, false, false);
            Model m = llm.model();
            double[] sparsities = {0, 0.8, 0.9};
            double[] nll = new double[3]; long[] kept = new long[3], tot = new long[3];
            for (int w = 0; w < windows; w++) {
                int start = (int) ((long) (all.length - window) * w / (windows - 1));
                int[] context = Arrays.copyOfRange(all, start, start + window - scored);
                int[] target = Arrays.copyOfRange(all, start + window - scored, start + window);
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, context, scored, cfg)) {
                    for (int s = 0; s < 3; s++) {
                        p.rewind(null);
                        OracleCache oc = new OracleCache(p.cache(), sparsities[s], m.config().heads());
                        double sum = nll(p.promptLogits(), target[0]);
                        int pos = p.promptLength();
                        for (int i = 0; i + 1 < scored; i++) sum += nll(m.decode(target[i], pos++, oc), target[i + 1]);
                        nll[s] += sum; kept[s] += oc.kept; tot[s] += oc.total;
                        System.err.printf("window %d setting %.1f done%n", w, sparsities[s]);
                    }
                }
            }
            for (int s = 0; s < 3; s++) {
                double ppl = Math.exp(nll[s] / (windows * scored));
                System.out.printf("oracle sparsity %.1f: perplexity %.4f (%+.2f%% vs dense), block sparsity %.3f%n", sparsities[s], ppl,
                        100 * (ppl / Math.exp(nll[0] / (windows * scored)) - 1), tot[s] == 0 ? 0 : 1 - (double) kept[s] / tot[s]);
            }
        }
    }
    static double nll(float[] logits, int token) { double max = -1e300; for (float l : logits) max = Math.max(max, l); double s = 0; for (float l : logits) s += Math.exp(l - max); return max + Math.log(s) - logits[token]; }
}
