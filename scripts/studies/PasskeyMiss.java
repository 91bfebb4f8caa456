package ai.aether.cli;

import ai.aether.attention.AetherAttention;
import ai.aether.attention.AetherConfig;
import ai.aether.attention.SequenceKvCache;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.eval.PasskeyEval;
import ai.aether.kernels.attention.DecodePlan;
import ai.aether.model.AetherKvCache;
import ai.aether.model.Model;
import ai.aether.model.ModelConfig;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Study behind docs/quality.md "Pass-key misses": for one pass-key case, decodes the correct answer
 * teacher-forced under AETHER (default config at the given sparsity and block size) and, at each
 * answer step, prints the greedy token under AETHER, and for every query head whose dense attention
 * (float64, from the stored keys) puts at least 20% of its mass on the needle's blocks, how much of
 * that needle mass the blocks AETHER kept hold (and the rank of the missed needle blocks).
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/PasskeyMiss.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.PasskeyMiss \
 *     MODEL.gguf LENGTH DEPTH TRIAL [SPARSITY=0.9] [BLOCK=32] [SCORE=QUANTIZED_BOX]
 * </pre>
 */
public class PasskeyMiss {
    public static void main(String[] a) throws Exception {
        int length = Integer.parseInt(a[1]), trial = Integer.parseInt(a[3]);
        double depth = Double.parseDouble(a[2]), sparsity = a.length > 4 ? Double.parseDouble(a[4]) : 0.9;
        int blockSize = a.length > 5 ? Integer.parseInt(a[5]) : 32;
        ai.aether.attention.RadarScore score = ai.aether.attention.RadarScore.valueOf(a.length > 6 ? a[6] : "QUANTIZED_BOX");
        AetherConfig config = AetherConfig.defaults().toBuilder().targetSparsity(sparsity).blockSize(blockSize).radarScore(score).build();
        try (LLM llm = LLM.load(Path.of(a[0]), config)) {
            PasskeyEval.Case c = PasskeyEval.buildCase(llm, length, depth, trial, 1);
            int[] prompt = c.tokens();
            // The needle: from the first "pass" token after the intro to the end of the second key.
            int[] spaced = llm.tokenizer().encode(" " + c.key(), false, false);
            int[] keyTokens = Arrays.copyOfRange(spaced, spaced.length - c.key().length(), spaced.length);  // the digits, one token each
            int needleStart = -1, needleEnd = -1;
            for (int i = 0; i + keyTokens.length <= prompt.length && needleEnd < 0; i++) {
                if (Arrays.equals(Arrays.copyOfRange(prompt, i, i + keyTokens.length), keyTokens)) {
                    if (needleStart < 0) needleStart = i;
                    else needleEnd = i + keyTokens.length;
                }
            }
            if (needleEnd < 0) throw new IllegalStateException("the key does not occur twice in the prompt");
            System.out.printf("%d tokens, key %s (%s), needle tokens [%d, %d) = blocks %d..%d%n", prompt.length, c.key(),
                    Arrays.toString(keyTokens), needleStart, needleEnd, needleStart / blockSize, (needleEnd - 1) / blockSize);
            int[] answer = llm.tokenizer().encode(" " + c.key() + ".", false, false);
            try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, prompt, answer.length + 2, config)) {
                p.rewind(config);
                Model m = llm.model();
                AetherKvCache cache = p.cache();
                ModelConfig mc = m.config();
                int heads = mc.heads(), kvHeads = mc.kvHeads(), dim = mc.headDim(), group = heads / kvHeads;
                int token = p.firstToken();
                System.out.printf("first answer token under the prefill (dense): '%s'%n", llm.tokenizer().decode(new int[] {token}));
                for (int step = 0; step + 1 < answer.length; step++) {
                    int fed = answer[step];  // teacher-forced: the first one is the prefill's own first token
                    float[] logits = m.decode(fed, prompt.length + step, cache);
                    int next = 0;
                    for (int i = 1; i < logits.length; i++) if (logits[i] > logits[next]) next = i;
                    int n = prompt.length + step + 1;
                    StringBuilder line = new StringBuilder();
                    AetherAttention attention = cache.attention();
                    for (int layer = 0; layer < mc.layers(); layer++) {
                        float[] q = cache.lastDecodeQueries(layer);
                        float[] keys = cache.readLayer(layer, n)[0];
                        DecodePlan plan = attention.select(layer, new SequenceKvCache[] {cache.sequence()}, q, null);
                        for (int h = 0; h < heads; h++) {
                            int kv = h / group;
                            double[] logit = new double[n];
                            double max = Double.NEGATIVE_INFINITY;
                            for (int t = 0; t < n; t++) {
                                double s = 0;
                                for (int d = 0; d < dim; d++) s += (double) q[h * dim + d] * keys[(kv * n + t) * dim + d];
                                logit[t] = s / Math.sqrt(dim);
                                max = Math.max(max, logit[t]);
                            }
                            int list = plan.listsPerSequence() == kvHeads ? kv : h;
                            boolean[] kept = new boolean[(n + blockSize - 1) / blockSize];
                            for (int i = 0; i < plan.keptCount(0, list); i++) kept[plan.keptLogicalBlock(0, list, i)] = true;
                            double z = 0, needle = 0, needleKept = 0;
                            for (int t = 0; t < n; t++) {
                                double e = Math.exp(logit[t] - max);
                                z += e;
                                if (t >= needleStart && t < needleEnd) {
                                    needle += e;
                                    if (kept[t / blockSize]) needleKept += e;
                                }
                            }
                            if (needle / z < 0.2) continue;
                            line.append(String.format(" L%dh%d %.2f", layer, h, needle / z));
                            if (needleKept < 0.95 * needle) line.append(String.format("(kept %.0f%%)", 100 * needleKept / needle));
                        }
                    }
                    System.out.printf("step %d fed '%s' -> AETHER '%s' (want '%s'):%s%n", step, llm.tokenizer().decode(new int[] {fed}),
                            llm.tokenizer().decode(new int[] {next}), llm.tokenizer().decode(new int[] {answer[step + 1]}), line);
                }
            }
        }
    }
}
