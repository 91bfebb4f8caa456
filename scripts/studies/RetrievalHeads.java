package ai.aether.cli;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.RadarScore;
import ai.aether.attention.SequenceKvCache;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.model.AetherKvCache;
import ai.aether.model.Model;
import ai.aether.model.ModelConfig;

import java.nio.file.Path;

/**
 * Study behind docs/quality.md "Retrieval heads": decodes the demo prompt densely and, at each
 * step, lists the query heads that put more than 30% of their attention (float64, from the stored
 * keys) on the block holding the planted fact, and whether AETHER's selection with the given
 * radar score would have read that block. Counts hits over all steps.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/RetrievalHeads.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.RetrievalHeads \
 *     MODEL.gguf [PROMPT_TOKENS=4096] [STEPS=14] [SCORE=QUANTIZED_BOX] [SPARSITY=0.8]
 * </pre>
 * (In package ai.aether.cli, on the class path beside the jar, to reach the demo's prompt builder.)
 */
public class RetrievalHeads {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int budget = args.length > 1 ? Integer.parseInt(args[1]) : 4096, steps = args.length > 2 ? Integer.parseInt(args[2]) : 14;
        RadarScore score = RadarScore.valueOf(args.length > 3 ? args[3] : "QUANTIZED_BOX");
        double sparsity = args.length > 4 ? Double.parseDouble(args[4]) : 0.8;
        AetherConfig config = AetherConfig.builder().radarScore(score).targetSparsity(sparsity).build();
        try (LLM llm = LLM.load(model, config)) {
            int[] prompt = DemoPrompt.build(llm, budget).tokens();
            int fact = -1;
            for (int i = 0; i < prompt.length && fact < 0; i++) if (llm.tokenizer().decode(new int[] {prompt[i]}).contains("kitchen")) fact = i;
            int block = fact / config.blockSize();
            System.out.printf("prompt %d tokens, planted fact at token %d (block %d), score %s, sparsity %.2f%n", prompt.length, fact, block, score, sparsity);
            try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, prompt, steps + 8, config)) {
                p.rewind(null);  // decode densely; selection is only inspected
                Model m = llm.model();
                AetherKvCache cache = p.cache();
                ModelConfig mc = m.config();
                int heads = mc.heads(), kvHeads = mc.kvHeads(), dim = mc.headDim(), group = heads / kvHeads;
                AetherAttention attention = new AetherAttention(config, heads, kvHeads, dim);
                int token = p.firstToken(), hits = 0, cases = 0;
                for (int step = 0; step < steps; step++) {
                    float[] logits = m.decode(token, prompt.length + step, cache);
                    int next = 0;
                    for (int i = 1; i < logits.length; i++) if (logits[i] > logits[next]) next = i;
                    int n = prompt.length + step + 1, blocks = (n + config.blockSize() - 1) / config.blockSize();
                    StringBuilder line = new StringBuilder();
                    for (int layer = 0; layer < mc.layers(); layer++) {
                        float[] q = cache.lastDecodeQueries(layer);
                        float[] keys = cache.readLayer(layer, n)[0];
                        DecodePlan plan = attention.select(layer, new SequenceKvCache[] {cache.sequence()}, q, null);
                        for (int h = 0; h < heads; h++) {
                            int kv = h / group;
                            double[] logit = new double[n];
                            double max = Double.NEGATIVE_INFINITY, z = 0, onFact = 0;
                            for (int t = 0; t < n; t++) {
                                double s = 0;
                                for (int d = 0; d < dim; d++) s += (double) q[h * dim + d] * keys[(kv * n + t) * dim + d];
                                logit[t] = s / Math.sqrt(dim);
                                max = Math.max(max, logit[t]);
                            }
                            for (int t = 0; t < n; t++) {
                                double e = Math.exp(logit[t] - max);
                                z += e;
                                if (t / config.blockSize() == block) onFact += e;
                            }
                            if (onFact / z < 0.3) continue;
                            int list = plan.listsPerSequence() == kvHeads ? kv : h;
                            boolean kept = false;
                            for (int i = 0; i < plan.keptCount(0, list); i++) kept |= plan.keptLogicalBlock(0, list, i) == block;
                            cases++;
                            if (kept) hits++;
                            line.append(String.format(" L%dh%d %.2f%s", layer, h, onFact / z, kept ? "" : " MISSED"));
                        }
                    }
                    System.out.printf("step %2d %-12s ->%s%n", step, "'" + llm.tokenizer().decode(new int[] {token}).replace("\n", "\\n") + "'", line);
                    token = next;
                }
                System.out.printf("heads with >= 30%% of their attention on the fact's block: %d; block read by AETHER in %d (%.0f%%)%n",
                        cases, hits, 100.0 * hits / Math.max(cases, 1));
            }
        }
    }
}
