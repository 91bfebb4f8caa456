package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.RadarScore;
import ai.aether.attention.SelectionMode;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.Model;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Bytes allocated per decode step once the JIT has compiled the decode path, per setting (all
 * threads). A steady-state decode step should allocate next to nothing: megabytes per step mean a
 * Vector API value is being boxed, i.e. the JIT left a call that passes or returns a vector out of
 * line (docs/benchmarks-e2e.md, "Eleventh session"). Run it after changing a kernel:
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/DecodeAllocation.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.cli.DecodeAllocation MODEL.gguf [PROMPT_TOKENS]
 * </pre>
 */
public class DecodeAllocation {
    public static void main(String[] a) throws Exception {
        int promptTokens = a.length > 1 ? Integer.parseInt(a[1]) : 2000;
        int warmUp = 400, measured = 64;
        AetherConfig f16 = AetherConfig.defaults();
        Map<String, AetherConfig> settings = new LinkedHashMap<>();
        settings.put("dense (FP16)", null);
        settings.put("default (FP16)", f16);
        settings.put("rerank 1", f16.toBuilder().rerankFactor(1).build());
        settings.put("KEY_SKETCH", f16.toBuilder().radarScore(RadarScore.KEY_SKETCH).build());
        settings.put("CERTIFIED", f16.toBuilder().selection(SelectionMode.CERTIFIED).build());
        settings.put("default, INT8 KV", f16.toBuilder().kvDtype(KvDtype.INT8).build());
        settings.put("default, FP32 KV", f16.toBuilder().kvDtype(KvDtype.FP32).build());
        settings.put("default, BF16 KV", f16.toBuilder().kvDtype(KvDtype.BF16).build());
        settings.put("block 32", f16.toBuilder().blockSize(32).build());
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (LLM llm = LLM.load(Path.of(a[0]), f16)) {
            Model model = llm.model();
            int[] prompt = DemoPrompt.build(llm, promptTokens).tokens();
            for (Map.Entry<String, AetherConfig> setting : settings.entrySet()) {
                AetherConfig base = setting.getValue() == null ? f16 : setting.getValue();
                try (SideBySide.Prefilled p = SideBySide.Prefilled.of(llm, prompt, warmUp + measured + 8, base)) {
                    p.rewind(setting.getValue());
                    int token = p.firstToken(), position = prompt.length;
                    for (int i = 0; i < warmUp; i++) token = argmax(model.decode(token, position++, p.cache()));
                    long before = threads.getTotalThreadAllocatedBytes();
                    for (int i = 0; i < measured; i++) token = argmax(model.decode(token, position++, p.cache()));
                    long perStep = (threads.getTotalThreadAllocatedBytes() - before) / measured;
                    System.out.printf("%-20s %,12d bytes allocated per decode step (after %d warm-up steps)%n", setting.getKey(), perStep, warmUp);
                }
            }
        }
    }

    static int argmax(float[] x) { int b = 0; for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i; return b; }
}
