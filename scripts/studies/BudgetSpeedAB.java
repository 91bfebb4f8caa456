package ai.aether.cli;
import ai.aether.attention.*;
import ai.aether.engine.*;
import ai.aether.model.*;
import java.nio.file.*;
import java.util.*;
/**
 * Study behind docs/benchmarks-e2e.md "Calibrated layer budgets": decode speed of uniform and
 * calibrated layer budgets, interleaved (3 x each, twice) from one 7,899-token prefill of
 * Shakespeare, 64 greedy tokens per run; prints each run's median step as tok/s.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/BudgetSpeedAB.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.BudgetSpeedAB MODEL.gguf TEXT
 * </pre>
 */
public class BudgetSpeedAB {
    public static void main(String[] a) throws Exception {
        AetherConfig cal = AetherConfig.defaults(), uni = cal.toBuilder().layerBudgets(LayerBudgets.UNIFORM).build();
        try (LLM llm = LLM.load(Path.of(a[0]), cal)) {
            int[] all = llm.tokenizer().encode(Files.readString(Path.of(a[1])), false, false);
            int[] ctx = Arrays.copyOfRange(all, 100000, 107899);
            List<SideBySide.Setting> settings = new ArrayList<>();
            for (int r = 0; r < 3; r++) { settings.add(new SideBySide.Setting("uniform" + r, uni)); settings.add(new SideBySide.Setting("calibrated" + r, cal)); }
            try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, ctx, 200, cal)) {
                for (int rep = 0; rep < 2; rep++) {
                    SideBySide.Outcome o = SideBySide.run(p, 64, settings, s -> {});
                    for (var run : o.runs()) { long[] st = run.stepNanos().clone(); Arrays.sort(st); System.out.printf("%s %d steps median %.1f tok/s%n", run.setting().name(), st.length, 1e9 / st[st.length / 2]); }
                }
            }
        }
    }
}
