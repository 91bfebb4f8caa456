package ai.aether.cli;

import ai.aether.engine.GenerationResult;
import ai.aether.engine.LLM;
import ai.aether.tokenizer.ChatTemplate.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code aether chat --model FILE}: an interactive conversation on stdin/stdout using the model's
 * chat template. The conversation's KV entries are reused between turns, so each turn only
 * prefills the new message. {@code /reset} starts over, {@code /exit} (or end of input) quits.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive chat with the model's chat template; prints tokens/s and time to first token after each reply.")
public final class ChatCommand implements Callable<Integer> {

    @Mixin
    GenerationOptions options;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message.")
    String system;

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (LLM llm = options.load()) {
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null) messages.add(ChatMessage.system(system));
            int initial = messages.size();
            System.err.println("chat with " + llm.model().config().name() + " (/reset to start over, /exit to quit)");
            while (true) {
                out.print("> ");
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.strip().equals("/reset")) {
                    messages.subList(initial, messages.size()).clear();
                    continue;
                }
                if (line.isBlank()) continue;
                messages.add(ChatMessage.user(line));
                int[] prompt = llm.encodeChat(messages);
                if (prompt.length + 1 >= llm.contextLength()) {
                    System.err.println("the conversation fills the context (" + llm.contextLength() + " tokens); /reset to continue");
                    messages.removeLast();
                    continue;
                }
                GenerationResult result = llm.generate(prompt, options.params(), (index, text) -> out.print(text));
                out.println();
                messages.add(ChatMessage.assistant(result.text()));
                System.err.println("[" + result.timings().summary() + (result.attention() == null ? "" : " | " + result.attention().summary()) + "]");
            }
        }
        return 0;
    }
}
