package ai.aether.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.aether.tokenizer.ChatTemplate.ChatMessage;

/**
 * {@code aether e2e}: the configurable form of the demo. AETHER on a prompt of your choice (or the
 * demo's), with {@code --compare-baseline} adding dense attention from the same prefilled cache.
 */
@Command(name = "e2e", mixinStandardHelpOptions = true,
        description = "End-to-end generation with AETHER on a long prompt; --compare-baseline runs dense beside it.")
public final class E2eCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    AetherOptions aether;

    @Option(names = "--compare-baseline", description = "Also run dense attention and compare (agreement, speedup).")
    boolean compareBaseline;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "UTF-8 prompt (default: the demo's long Shakespeare prompt).")
    Path promptFile;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text.")
    String prompt;

    @Option(names = "--chat", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Wrap --prompt/--prompt-file as a user message in the model's chat template (default; --no-chat for raw text).")
    boolean chat;

    @Option(names = "--expect", paramLabel = "TEXT", description = "Report whether each answer contains TEXT.")
    String expect;

    @Option(names = "--max-tokens", defaultValue = "64", paramLabel = "N", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N", description = "KV positions; 0 = the model's context (default).")
    int context;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: AETHER_THREADS or all cores).")
    Integer threads;

    @Option(names = "--dump-kv", paramLabel = "FILE.npz",
            description = "Write the prompt's keys/values (every layer, fp16) and a decode step's queries, as `aether bench --kv-file` reads.")
    Path dumpKv;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
        if (prompt != null && promptFile != null) throw new IllegalArgumentException("give at most one of --prompt and --prompt-file");
        String text = prompt;
        if (promptFile != null) {
            if (!Files.isRegularFile(promptFile)) throw new IOException("prompt file " + promptFile + " does not exist");
            text = Files.readString(promptFile, StandardCharsets.UTF_8);
        }
        String given = text;
        return SideBySideCommand.run(model.resolveOr("smollm2"), threads, aether.config(), compareBaseline, maxTokens, context, (llm, budget) -> {
            if (given == null) {
                DemoPrompt p = DemoPrompt.build(llm, budget);
                return new SideBySideCommand.Prompt(p.tokens(), String.format(Locale.ROOT, "the demo prompt; question: \"%s\"", p.question()),
                        expect != null ? expect : p.expected());
            }
            int[] tokens = chat ? llm.encodeChat(List.of(ChatMessage.user(given))) : llm.encodePrompt(given);
            if (tokens.length > budget) {
                throw new IllegalArgumentException("the prompt has " + tokens.length + " tokens; with --max-tokens " + maxTokens
                        + " at most " + budget + " fit the context of " + llm.contextLength());
            }
            return new SideBySideCommand.Prompt(tokens, promptFile != null ? promptFile.toString() : "", expect);
        }, dumpKv);
    }
}
