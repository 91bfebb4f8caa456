package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.Model;
import java.nio.file.Path;
import java.util.*;

/**
 * Study behind docs/benchmarks-e2e.md (seventh session, 2026-12-07): decode speed at 8K of several
 * settings, interleaved STEP BY STEP, each setting decoding from its own prefill of the demo's
 * 7,899-token prompt, so the slow phases of a shared host hit every setting alike (runs of 48
 * tokens per setting in turn still moved by 10-40%). Two warm-up rounds, then {@code rounds} rounds
 * of 48 steps; prints the running median per round and, at the end, each setting's median step.
 * A setting is {@code DTYPE-MODE}: DTYPE {@code f16} or {@code int8} (the KV storage), MODE
 * {@code default}, {@code dense} or {@code r1} (default without the rerank). Give one DTYPE per
 * process for figures to quote: a JVM whose kernels have run both storage types measured the
 * INT8 gain at a third of what separate processes measured.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/StepInterleavedSpeed.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.StepInterleavedSpeed MODEL.gguf 5 int8-default,int8-dense,int8-r1
 * </pre>
 */
public class StepInterleavedSpeed {
    static int argmax(float[] x) { int b = 0; for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i; return b; }

    public static void main(String[] a) throws Exception {
        AetherConfig f16 = AetherConfig.defaults();
        AetherConfig i8 = f16.toBuilder().kvDtype(KvDtype.INT8).build();
        String[] names = a[2].split(",");
        int steps = 48, rounds = Integer.parseInt(a[1]);
        try (LLM llm = LLM.load(Path.of(a[0]), f16)) {
            Model model = llm.model();
            int[] prompt = DemoPrompt.build(llm, a.length > 3 ? Integer.parseInt(a[3]) : 7899).tokens();  // optional 4th argument: prompt tokens
            int n = names.length;
            SideBySide.Prefilled[] p = new SideBySide.Prefilled[n];
            AetherConfig[] decodeConfig = new AetherConfig[n];
            for (int v = 0; v < n; v++) {
                boolean int8 = names[v].startsWith("int8");
                AetherConfig base = int8 ? i8 : f16;
                p[v] = SideBySide.Prefilled.of(llm, prompt, steps + 8, base);
                String s = names[v].substring(names[v].indexOf('-') + 1);
                decodeConfig[v] = switch (s) {
                    case "dense" -> null;
                    case "default" -> base;
                    case "r1" -> base.toBuilder().rerankFactor(1).build();
                    default -> {  // reN: reselect every N steps; skN: the same with the KEY_SKETCH score; rkF: rerank factor F
                        if (s.startsWith("rk")) yield base.toBuilder().rerankFactor(Double.parseDouble(s.substring(2))).build();
                        if (s.startsWith("re")) yield base.toBuilder().reselectInterval(Integer.parseInt(s.substring(2))).build();
                        if (s.startsWith("sk")) yield base.toBuilder().radarScore(ai.aether.attention.RadarScore.KEY_SKETCH)
                                .reselectInterval(Integer.parseInt(s.substring(2))).build();
                        throw new IllegalArgumentException(s);
                    }
                };
            }
            List<List<Long>> times = new ArrayList<>();
            for (int v = 0; v < n; v++) times.add(new ArrayList<>());
            int len = prompt.length;
            long[] reused = new long[n], selections = new long[n];
            for (int r = -2; r < rounds; r++) {
                int[] token = new int[n];
                for (int v = 0; v < n; v++) { p[v].rewind(decodeConfig[v]); token[v] = p[v].firstToken(); }
                for (int i = 0; i < steps; i++) {
                    for (int j = 0; j < n; j++) {
                        int v = (i + r + 2) % 2 == 0 ? j : n - 1 - j;
                        long t0 = System.nanoTime();
                        token[v] = argmax(model.decode(token[v], len + i, p[v].cache()));
                        long dt = System.nanoTime() - t0;
                        if (r >= 0 && i >= 4) times.get(v).add(dt);
                        if (r >= 0 && decodeConfig[v] != null) for (int layer = 0; layer < model.config().layers(); layer++) {
                            reused[v] += p[v].cache().lastStep(layer).reusedSelections();
                            selections[v] += p[v].cache().lastStep(layer).selections();
                        }
                    }
                }
                if (r >= 0) {
                    StringBuilder sb = new StringBuilder("round " + r);
                    for (int v = 0; v < n; v++) { List<Long> t = new ArrayList<>(times.get(v)); Collections.sort(t); sb.append(String.format(" %s %.2f", names[v], t.get(t.size() / 2) / 1e6)); }
                    System.out.println(sb);
                }
            }
            for (int v = 0; v < n; v++) {
                List<Long> t = new ArrayList<>(times.get(v)); Collections.sort(t);
                System.out.printf("%s: median step %.2f ms (%.1f tok/s), p25 %.2f, p75 %.2f, %d steps, %.1f%% of selections reused%n", names[v], t.get(t.size() / 2) / 1e6, 1e9 / t.get(t.size() / 2), t.get(t.size() / 4) / 1e6, t.get(3 * t.size() / 4) / 1e6, t.size(), selections[v] == 0 ? 0.0 : 100.0 * reused[v] / selections[v]);
            }
            for (SideBySide.Prefilled q : p) q.close();
        }
    }
}
