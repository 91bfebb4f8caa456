package ai.aether.cli;

import ai.aether.engine.LLM;
import ai.aether.tokenizer.ChatTemplate.ChatMessage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The demo's long prompt: real text (the opening of Coriolanus from the bundled public-domain
 * Shakespeare excerpt) with one planted detail near the start, cut to fit a token budget, and a
 * question about that detail at the end. Retrieval from thousands of tokens back is exactly what
 * a sparse attention can get wrong, so the answer is checked.
 */
record DemoPrompt(int[] tokens, String question, String expected, int detailToken) {

    static final String DETAIL = "MESSENGER:\nMy lord, the silver key to the treasury is hidden under the blue teapot in the kitchen.\n\n";
    static final String QUESTION = "In the text above, where is the silver key to the treasury hidden?";
    static final String EXPECTED = "kitchen";  // the planted line is the text's only kitchen

    /** The prompt for {@code llm}, at most {@code budget} tokens, chat-formatted when the model has a template. */
    static DemoPrompt build(LLM llm, int budget) throws IOException {
        String text;
        try (InputStream in = DemoPrompt.class.getResourceAsStream("demo-shakespeare.txt")) {
            if (in == null) throw new IOException("the demo text resource demo-shakespeare.txt is missing from the build");
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int plantAt = text.indexOf("\n\n", text.indexOf("\n\n") + 2) + 2;  // after the first two speeches
        String planted = text.substring(0, plantAt) + DETAIL + text.substring(plantAt);
        int chars = planted.length();
        int[] tokens = encode(llm, planted, chars);
        while (tokens.length > budget) {
            chars = (int) (chars * Math.min(0.99, (double) budget / tokens.length * 0.995));
            if (chars <= plantAt + DETAIL.length()) throw new IllegalArgumentException("a prompt budget of " + budget + " tokens is too small for the demo");
            int cut = planted.lastIndexOf("\n\n", chars);
            chars = cut > plantAt + DETAIL.length() ? cut + 1 : chars;
            tokens = encode(llm, planted, chars);
        }
        int detailToken = llm.tokenizer().encode(planted.substring(0, plantAt), false, false).length;
        return new DemoPrompt(tokens, QUESTION, EXPECTED, detailToken);
    }

    private static int[] encode(LLM llm, String planted, int chars) {
        String body = "Read this scene; a question about it follows.\n\n" + planted.substring(0, chars) + "\nQuestion: " + QUESTION;
        if (llm.tokenizer().hasChatTemplate()) {
            return llm.encodeChat(List.of(ChatMessage.user(body)));
        }
        return llm.encodePrompt(body + "\nAnswer:");
    }
}
