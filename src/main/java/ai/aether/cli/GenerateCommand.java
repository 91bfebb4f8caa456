package ai.aether.cli;

import ai.aether.engine.GenerationParams;
import ai.aether.engine.GenerationResult;
import ai.aether.engine.LLM;
import ai.aether.tokenizer.ChatTemplate.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
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

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (promptFile == null)) throw new IllegalArgumentException("give exactly one of --prompt and --prompt-file");
        if (promptFile != null) {
            if (!Files.isRegularFile(promptFile)) throw new IOException("prompt file " + promptFile + " does not exist");
            prompt = Files.readString(promptFile, StandardCharsets.UTF_8);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (LLM llm = options.load()) {
            GenerationParams params = options.params();
            int[] promptTokens = chat ? llm.encodeChat(messages()) : llm.encodePrompt(prompt);
            GenerationResult result = llm.generate(promptTokens, params, (index, text) -> out.print(text));
            out.println();
            System.err.println(result.timings().summary() + " | stop: " + result.stopReason().name().toLowerCase()
                    + " | seed: " + options.effectiveSeed());
            if (result.attention() != null) System.err.println(result.attention().summary());
        }
        return 0;
    }

    private List<ChatMessage> messages() {
        return system == null ? List.of(ChatMessage.user(prompt)) : List.of(ChatMessage.system(system), ChatMessage.user(prompt));
    }
}
