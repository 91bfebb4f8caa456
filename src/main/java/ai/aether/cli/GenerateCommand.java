package ai.aether.cli;

import ai.aether.engine.GenerationParams;
import ai.aether.engine.GenerationResult;
import ai.aether.engine.LLM;
import ai.aether.eval.KvDump;
import ai.aether.model.AetherKvCache;
import ai.aether.tokenizer.ChatTemplate.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code aether generate --model FILE --prompt TEXT}: streams the continuation to stdout, then
 * prints prompt and generation speed and the time to first token to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text after a prompt (streamed), then print tokens/s and time to first token.")
public final class GenerateCommand implements Callable<Integer> {

    @Mixin
    GenerationOptions options;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "Read the prompt from a UTF-8 file instead.")
    Path promptFile;

    @Option(names = "--chat", description = "Wrap the prompt as a user message in the model's chat template.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message (with --chat).")
    String system;

    @Option(names = "--dump-kv", paramLabel = "FILE.npz", description = "Afterwards write the cached keys/values of every layer (prompt and "
            + "output), the last decode step's queries and the prompt's last prefill queries as .npz, the file bench --kv-file reads.")
    Path dumpKv;

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (promptFile == null)) throw new IllegalArgumentException("give exactly one of --prompt and --prompt-file");
        if (promptFile != null) {
            if (!Files.isRegularFile(promptFile)) throw new IOException("prompt file " + promptFile + " does not exist");
            prompt = Files.readString(promptFile, StandardCharsets.UTF_8);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        KvDumpCapture capture = dumpKv == null ? null : options.dumpCapture();
        try (LLM llm = capture == null ? options.load() : options.load(capture)) {
            GenerationParams params = options.params();
            int[] promptTokens = chat ? llm.encodeChat(messages()) : llm.encodePrompt(prompt);
            if (capture != null) capture.recordPrefillQueriesAt(KvDump.prefillQueryPositions(promptTokens.length));
            GenerationResult result = llm.generate(promptTokens, params, (index, text) -> out.print(text));
            out.println();
            System.err.println(result.timings().summary() + " | stop: " + result.stopReason().name().toLowerCase()
                    + " | seed: " + options.effectiveSeed());
            if (result.attention() != null) System.err.println(result.attention().summary());
            System.err.println(result.memory().summary());
            if (capture != null) dump(capture.latest(), promptTokens, result.tokens());
        }
        return 0;
    }

    /** Writes the cache: every position with keys and values (the prompt and the output fed back), the ids beside. */
    private void dump(AetherKvCache cache, int[] promptTokens, int[] generated) throws IOException {
        int tokens = cache.length(0);
        if (tokens <= promptTokens.length) {
            throw new IllegalArgumentException("--dump-kv needs at least one decode step; the generation stopped after its first token "
                    + "(raise --max-tokens to 2 or more)");
        }
        int[] ids = Arrays.copyOf(promptTokens, tokens);
        System.arraycopy(generated, 0, ids, promptTokens.length, tokens - promptTokens.length);
        KvDump.write(cache, tokens, ids, dumpKv);
        System.err.println("wrote the KV cache (" + tokens + " tokens, every layer) to " + dumpKv);
    }

    private List<ChatMessage> messages() {
        return system == null ? List.of(ChatMessage.user(prompt)) : List.of(ChatMessage.system(system), ChatMessage.user(prompt));
    }
}
