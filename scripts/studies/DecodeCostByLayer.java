package ai.aether.cli;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.SequenceKvCache;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;

import java.nio.file.Path;
import java.util.List;

/**
 * Where AETHER's decode time goes at 8K, on 2 threads and on 1: per layer, the time of radar + selection (rerank
 * included) and of the sparse attention, for the default and for {@code --rerank 1}, on the
 * demo prompt's cache and the queries of a real decode step (median of repeated calls).
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/DecodeCostByLayer.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.DecodeCostByLayer MODEL.gguf
 * </pre>
 */
public class DecodeCostByLayer {
    public static void main(String[] a) throws Exception {
        AetherConfig def = AetherConfig.defaults();
        AetherConfig r1 = def.toBuilder().rerankFactor(1).build();
        int reps = 200;
        try (LLM llm = LLM.load(Path.of(a[0]), def)) {
            int[] prompt = DemoPrompt.build(llm, 7899).tokens();
            try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, prompt, 16, def)) {
                for (int round = 0; round < 4; round++) {
                    ai.aether.kernels.Parallel.setThreads(round % 2 == 0 ? 2 : 1);
                    for (AetherConfig config : List.of(def, r1)) {
                        SideBySide.run(p, 2, List.of(new SideBySide.Setting("x", config)), s -> {}, false);
                        AetherAttention attention = p.cache().attention();
                        SequenceKvCache seq = p.cache().sequence();
                        int layers = p.cache().layers();
                        double selTotal = 0, attTotal = 0;
                        StringBuilder reranking = new StringBuilder();
                        for (int layer = 0; layer < layers; layer++) {
                            float[] q = p.cache().lastDecodeQueries(layer);
                            float[] out = new float[q.length];
                            long[] sel = new long[reps], att = new long[reps];
                            for (int i = 0; i < reps; i++) {
                                long t0 = System.nanoTime();
                                attention.select(layer, new SequenceKvCache[] {seq}, q, null);
                                long t1 = System.nanoTime();
                                attention.decode(layer, seq, q, out, null);
                                long t2 = System.nanoTime();
                                sel[i] = t1 - t0;
                                att[i] = t2 - t1 - (t1 - t0);  // decode = selection + attention
                            }
                            java.util.Arrays.sort(sel);
                            java.util.Arrays.sort(att);
                            selTotal += sel[reps / 2];
                            attTotal += att[reps / 2];
                            if (p.cache().reranks(layer)) reranking.append(layer).append(String.format("(%.0f/%.0f us) ", sel[reps / 2] / 1e3, att[reps / 2] / 1e3));
                        }
                        System.out.printf("round %d threads %d %s: selection %.2f ms, attention %.2f ms per step; rerank layers %s%n", round, ai.aether.kernels.Parallel.threads(),
                                config == def ? "default" : "r1", selTotal / 1e6, attTotal / 1e6, reranking);
                    }
                }
            }
        }
    }
}
