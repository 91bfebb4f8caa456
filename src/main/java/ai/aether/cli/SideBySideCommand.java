package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.catalog.ResolvedModel;
import ai.aether.engine.AttentionReport;
import ai.aether.engine.LLM;
import ai.aether.engine.MemoryReport;
import ai.aether.engine.SideBySide;
import ai.aether.engine.SideBySide.Run;
import ai.aether.engine.SideBySide.Setting;
import ai.aether.eval.KvDump;
import ai.aether.kernels.Parallel;

import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code demo} and {@code e2e} share: load the model, prefill the prompt once, decode it
 * greedily dense and with AETHER, print the answers and a side-by-side table (decode tok/s,
 * sparsity, bytes read, agreement, speedup).
 */
final class SideBySideCommand {

    private SideBySideCommand() {}

    /** Runs the comparison; returns the exit code (0). */
    static int run(ResolvedModel model, Integer threads, AetherConfig aether, boolean compareDense, int maxTokens, int contextLength,
                   PromptSource prompt) throws Exception {
        return run(model, threads, aether, compareDense, maxTokens, contextLength, prompt, null);
    }

    /** As above; with {@code dumpKv} non-null, also writes the prompt's KV cache and a decode query there (.npz for bench --kv-file). */
    static int run(ResolvedModel model, Integer threads, AetherConfig aether, boolean compareDense, int maxTokens, int contextLength,
                   PromptSource prompt, Path dumpKv) throws Exception {
        return run(model, threads, aether, compareDense, maxTokens, contextLength, prompt, dumpKv, List.of());
    }

    /** As above, decoding the same prefilled prompt under {@code extra} AETHER settings too (same block size and KV type). */
    static int run(ResolvedModel model, Integer threads, AetherConfig aether, boolean compareDense, int maxTokens, int contextLength,
                   PromptSource prompt, Path dumpKv, List<Setting> extra) throws Exception {
        if (threads != null) Parallel.setThreads(threads);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        try (LLM llm = LLM.load(model.path(), LLM.Options.DEFAULT.withContextLength(contextLength))) {
            llm.warmUp();
            Prompt p = prompt.build(llm, llm.contextLength() - maxTokens - 8);
            out.printf(Locale.ROOT, "model: %s (%s), %d threads%n", model.displayName(), model.path(), Parallel.threads());
            out.printf(Locale.ROOT, "prompt: %,d tokens%s%n", p.tokens().length, p.description().isEmpty() ? "" : " - " + p.description());
            List<Setting> settings = new ArrayList<>();
            if (compareDense) settings.add(Setting.dense());
            settings.add(new Setting("AETHER", aether));
            out.println("AETHER: " + AetherOptions.describe(aether));
            for (Setting e : extra) {
                settings.add(e);
                out.println(e.name() + ": " + AetherOptions.describe(e.config()));
            }
            err.println("... prefill: " + p.tokens().length + " tokens (once, shared by every setting)");
            SideBySide.Outcome o;
            MemoryReport memory;
            int[] queryPositions = dumpKv == null ? new int[0] : KvDump.prefillQueryPositions(p.tokens().length);
            try (SideBySide.Prefilled prefilled = SideBySide.Prefilled.of(llm, p.tokens(),  // room for the answer and, where the context has it, the warm-up's runs
                    Math.min(maxTokens + 6 + SideBySide.WARM_UP_STEPS, llm.contextLength() - p.tokens().length), SideBySide.baseConfig(settings),
                    queryPositions)) {
                o = SideBySide.run(prefilled, maxTokens, settings, line -> err.println("... " + line));
                memory = MemoryReport.of(llm.model(), prefilled.cache());
                if (dumpKv != null) {
                    prefilled.rewind(null);  // one dense step from the prompt records every layer's query
                    llm.model().decode(prefilled.firstToken(), prefilled.promptLength(), prefilled.cache());
                    int[] ids = Arrays.copyOf(p.tokens(), p.tokens().length + 1);
                    ids[p.tokens().length] = prefilled.firstToken();
                    KvDump.write(prefilled.cache(), prefilled.promptLength() + 1, ids, dumpKv);
                    err.println("... wrote the KV cache (" + (prefilled.promptLength() + 1) + " tokens, every layer) to " + dumpKv);
                }
            }
            out.printf(Locale.ROOT, "prefill: %,d tokens in %.1f s (%.0f tok/s), once, shared by every run%n%n",
                    o.promptTokens(), o.prefillNanos() / 1e9, o.prefillTokensPerSecond());
            for (Run r : o.runs()) {
                out.println("--- " + r.setting().name() + " answer ---");
                out.println(r.text().strip());
                out.println();
            }
            printTable(out, o.runs(), p.expected());
            out.println();
            out.println(memory.summary("KV cache (one, shared by every run)"));
            return 0;
        }
    }

    private static void printTable(PrintStream out, List<Run> runs, String expected) {
        String row = "%-26s" + "%-24s".repeat(runs.size()) + "%n";
        out.printf(Locale.ROOT, row, cells("", runs, r -> r.setting().name()));
        out.printf(Locale.ROOT, row, cells("generated tokens", runs, r -> Integer.toString(r.tokens().length)));
        out.printf(Locale.ROOT, row, cells("decode tok/s (median)", runs, r -> String.format(Locale.ROOT, "%.1f", r.decodeTokensPerSecond())));
        out.printf(Locale.ROOT, row, cells("block sparsity", runs, r -> String.format(Locale.ROOT, "%.1f%%", 100 * r.attention().sparsity())));
        out.printf(Locale.ROOT, row, cells("bytes read (KV, meta)", runs,
                r -> String.format(Locale.ROOT, "%.1f%% of dense", 100 * r.attention().bytesReadShare())));
        out.printf(Locale.ROOT, row, cells("radar+selection time", runs,
                r -> r.setting().config() == null ? "-" : String.format(Locale.ROOT, "%.1f%% of attention", 100 * r.attention().selectionShare())));
        out.printf(Locale.ROOT, row, cells("  of which rerank reads", runs,
                r -> r.setting().config() == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * r.attention().rerankShare())));
        out.printf(Locale.ROOT, row, cells("selections reused", runs,
                r -> r.setting().config() == null ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.attention().reusedSelectionShare())));
        out.printf(Locale.ROOT, row, cells("budget calibration", runs,  // once per prompt, in the first decode step
                r -> r.setting().config() == null ? "-" : String.format(Locale.ROOT, "%.0f ms once", r.attention().calibrationMillis())));
        if (expected != null) {
            out.printf(Locale.ROOT, row, cells("answer mentions \"" + expected + "\"", runs,
                    r -> r.text().toLowerCase(Locale.ROOT).contains(expected.toLowerCase(Locale.ROOT)) ? "yes" : "no"));
        }
        if (runs.size() > 1) {
            Run dense = runs.getFirst();
            out.println();
            for (Run r : runs.subList(1, runs.size())) {
                AttentionReport a = r.attention();
                out.printf(Locale.ROOT, "%s vs %s: %d of %d tokens identical before the first difference, %.1f%% agreement by position, "
                                + "decode speedup %.2fx (at %.1f%% sparsity)%n",
                        r.setting().name(), dense.setting().name(), r.commonPrefix(dense), Math.max(r.tokens().length, dense.tokens().length),
                        100 * r.agreementWith(dense), r.decodeTokensPerSecond() / dense.decodeTokensPerSecond(), 100 * a.sparsity());
            }
        }
    }

    private static Object[] cells(String label, List<Run> runs, java.util.function.Function<Run, String> cell) {
        Object[] cells = new Object[runs.size() + 1];
        cells[0] = label;
        for (int i = 0; i < runs.size(); i++) cells[i + 1] = cell.apply(runs.get(i));
        return cells;
    }

    /** A prompt plus what to show about it and, when known, a word the right answer contains. */
    record Prompt(int[] tokens, String description, String expected) {}

    /** Builds the prompt once the model (and its tokenizer and context) is loaded. */
    @FunctionalInterface
    interface PromptSource {
        /** @param budget most tokens the prompt may have */
        Prompt build(LLM llm, int budget) throws Exception;
    }
}
