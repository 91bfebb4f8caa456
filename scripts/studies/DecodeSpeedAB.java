package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.LayerBudgets;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Study behind docs/benchmarks-e2e.md (2026-12-06, second AMD session): decode speed at 8K of dense
 * and AETHER settings, interleaved in one JVM from one prefill (the demo's 7,899-token prompt with
 * {@code demo}, else 7,899 tokens of running Shakespeare), each setting run twice in turn; prints
 * each run's median step as tok/s, its bytes read and its selection share of the attention time.
 * On a machine shared with other jobs, single demo runs move by 2x; runs interleaved like this are
 * the ones to compare (and for a before/after, paired rounds of both variants in one JVM).
 *
 * <p>Settings: {@code dense}, {@code default}, {@code r1} (default without the rerank),
 * {@code uni} (uniform layer budgets, no rerank: the 2026-11-24 default).
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/DecodeSpeedAB.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.DecodeSpeedAB MODEL.gguf TEXT 48 dense,default,r1,uni [demo]
 * </pre>
 */
public class DecodeSpeedAB {
    public static void main(String[] a) throws Exception {
        AetherConfig def = AetherConfig.defaults();
        AetherConfig r1 = def.toBuilder().rerankFactor(1).build();
        AetherConfig uni = r1.toBuilder().layerBudgets(LayerBudgets.UNIFORM).build();
        int steps = Integer.parseInt(a[2]);
        try (LLM llm = LLM.load(Path.of(a[0]), def)) {
            int[] all = llm.tokenizer().encode(Files.readString(Path.of(a[1])), false, false);
            int[] prompt = a.length > 4 ? DemoPrompt.build(llm, 7899).tokens() : Arrays.copyOfRange(all, 100000, 107899);
            List<SideBySide.Setting> settings = new ArrayList<>();
            for (String s : a[3].split(",")) {
                settings.add(new SideBySide.Setting(s, switch (s) {
                    case "dense" -> null;
                    case "default" -> def;
                    case "r1" -> r1;
                    case "uni" -> uni;
                    default -> throw new IllegalArgumentException("unknown setting " + s);
                }));
            }
            try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, prompt, steps + 8, def)) {
                for (int rep = 0; rep < 2; rep++) {
                    for (SideBySide.Run run : SideBySide.run(p, steps, settings, s -> {}).runs()) {
                                                System.out.printf("%s %d steps median %.1f tok/s, bytes read %.1f%% of dense, selection %.1f%% of attention time%n",
                                run.setting().name(), run.stepNanos().length, run.decodeTokensPerSecond(), 100 * run.attention().bytesReadShare(),
                                100 * run.attention().selectionShare());
                    }
                }
            }
        }
    }
}
