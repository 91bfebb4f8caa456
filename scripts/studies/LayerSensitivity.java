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
 * Study behind docs/quality.md "Calibrated layer budgets": which layers' block choice the perplexity
 * depends on. Same windows and scoring as {@code aether eval perplexity} (4 windows of 8,192
 * Shakespeare tokens, the last 256 scored); AETHER at 80% (uniform budgets) everywhere, except one
 * layer at a time, whose decode attention reads the sink, the local window and the blocks with the
 * largest TRUE attention mass (float64 from every stored key: the oracle). Prints each layer's gain
 * over AETHER. ~16 minutes on 2 cores.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/LayerSensitivity.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.LayerSensitivity MODEL.gguf TEXT
 * </pre>
 */
public class LayerSensitivity {
    static final class OracleCache implements KvCache {
        final AetherKvCache inner; final double sparsity; int oracleLayer = -1; final int H; final AttentionBackend backend = AttentionBackend.load();
        long kept, total;
        OracleCache(AetherKvCache inner, double sparsity, int heads) { this.inner = inner; this.sparsity = sparsity; this.H = heads; }
        public int layers() { return inner.layers(); }
        public int kvHeads() { return inner.kvHeads(); }
        public int headDim() { return inner.headDim(); }
        public int capacity() { return inner.capacity(); }
        public void write(int layer, int position, int tokens, float[] keys, float[] values) { inner.write(layer, position, tokens, keys, values); }
        public void truncate(int length) { inner.truncate(length); }
        public void attend(int layer, int position, int tokens, float[] q, int heads, float[] out) {
            if (tokens > 1 || sparsity <= 0 || layer != oracleLayer) { inner.attend(layer, position, tokens, q, heads, out); return; }
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
                        OracleCache oc = new OracleCache(p.cache(), 0.8, m.config().heads());
                        oc.oracleLayer = s - 2;
                        double sum = nll(p.promptLogits(), target[0]);
                        int pos = p.promptLength();
                        for (int i = 0; i + 1 < scored; i++) sum += nll(m.decode(target[i], pos++, oc), target[i + 1]);
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
    static double nll(float[] logits, int token) { double max = -1e300; for (float l : logits) max = Math.max(max, l); double s = 0; for (float l : logits) s += Math.exp(l - max); return max + Math.log(s) - logits[token]; }
}
