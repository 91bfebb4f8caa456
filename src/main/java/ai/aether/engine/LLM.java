package ai.aether.engine;

import ai.aether.attention.AetherConfig;
import ai.aether.model.KvCache;
import ai.aether.model.Model;
import ai.aether.tokenizer.ChatTemplate.ChatMessage;
import ai.aether.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * The high-level API: a model, its tokenizer and one KV cache, generating text.
 * Consecutive calls reuse the cached prefix they share with the previous prompt (a chat's
 * history is prefilled once). Not thread-safe: one generation at a time.
 *
 * <pre>{@code
 * try (LLM llm = LLM.load(Path.of("../shared/models/stories260K/stories260K.gguf"))) {
 *     GenerationResult r = llm.generate("Once upon a time", GenerationParams.greedy(32));
 *     System.out.println(r.text());                       // " there was a little girl named Lily..."
 *     System.out.println(r.timings().summary());
 *     llm.generate("Hello", GenerationParams.greedy(16), (id, text) -> System.out.print(text)); // streaming
 * }
 * }</pre>
 */
public final class LLM implements AutoCloseable {

    /**
     * @param contextLength KV positions to allocate, in [1, model context]; 0 means the model's context
     * @param kvCache       how the cache is made (dense fp16 blocks by default, as llama.cpp; AETHER when configured)
     */
    public record Options(int contextLength, KvCacheFactory kvCache) {
        public static final Options DEFAULT = new Options(0, KvCacheFactory.DENSE_F16);

        public Options {
            if (contextLength < 0) throw new IllegalArgumentException("context length must be >= 0 (0 = the model's), got " + contextLength);
            Objects.requireNonNull(kvCache, "kvCache");
        }

        public Options withContextLength(int value) { return new Options(value, kvCache); }
        public Options withKvCache(KvCacheFactory value) { return new Options(contextLength, value); }
        /** AETHER attention with {@code config}; null means dense. */
        public Options withAether(AetherConfig config) { return new Options(contextLength, KvCacheFactory.aether(config)); }
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final Options options;
    private final int contextLength;
    private KvCache cache;             // allocated on first use, then reused
    private Generation last;           // the latest generation; its fed tokens are the cache's reusable prefix

    public LLM(Model model, Tokenizer tokenizer, Options options) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.options = Objects.requireNonNull(options, "options");
        int modelContext = model.config().contextLength();
        if (options.contextLength() > modelContext) {
            throw new IllegalArgumentException("context length " + options.contextLength() + " exceeds the model's " + modelContext);
        }
        this.contextLength = options.contextLength() == 0 ? modelContext : options.contextLength();
        if (tokenizer.vocabularySize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabularySize() + " tokens but the model's embedding only "
                    + model.config().vocabSize());
        }
    }

    /** Loads a GGUF model and the tokenizer in its metadata, with default options. */
    public static LLM load(Path path) throws IOException {
        return load(path, Options.DEFAULT);
    }

    /** Loads a GGUF model with AETHER attention configured by {@code config} (null: dense attention). */
    public static LLM load(Path path, AetherConfig config) throws IOException {
        return load(path, Options.DEFAULT.withAether(config));
    }

    public static LLM load(Path path, Options options) throws IOException {
        Model model = Model.load(path);
        try {
            return new LLM(model, Tokenizer.fromGguf(model.gguf()), options);
        } catch (IOException | RuntimeException failure) {
            model.close();
            throw failure;
        }
    }

    public Model model() { return model; }

    /**
     * Runs a short prefill and a few decode steps on a scratch cache so the JIT compiles the
     * kernels before the first real prompt (as llama.cpp's warm-up run does); afterwards time to
     * first token measures the prompt, not the compiler. Leaves this LLM's cache untouched.
     */
    public void warmUp() {
        int positions = Math.min(16, model.config().contextLength());
        KvCache scratch = options.kvCache().create(model.config(), positions);
        int[] tokens = new int[Math.max(1, positions / 2)];
        float[] logits = model.prefill(tokens, 0, scratch);
        for (int p = tokens.length; p < positions; p++) logits = model.decode(Sampler.argmax(logits), p, scratch);
    }

    public Tokenizer tokenizer() { return tokenizer; }

    /** KV positions available to prompt plus output. */
    public int contextLength() { return contextLength; }

    /** Token ids of a plain-text prompt (BOS as the model wants it; special-token texts are parsed). */
    public int[] encodePrompt(String prompt) {
        return tokenizer.encode(prompt, true, true);
    }

    /** Token ids of a conversation rendered with the model's chat template, ready for the assistant's reply. */
    public int[] encodeChat(List<ChatMessage> messages) {
        String rendered = tokenizer.chatTemplate().render(messages, true);
        return tokenizer.encode(rendered, false, true);
    }

    /** Starts generating after {@code prompt}; iterate the result for streaming text. */
    public Generation start(String prompt, GenerationParams params) {
        return start(encodePrompt(prompt), params);
    }

    /** Starts generating after the given prompt tokens. */
    public Generation start(int[] promptTokens, GenerationParams params) {
        if (cache == null) cache = options.kvCache().create(model.config(), contextLength);
        int[] reusable = last == null ? new int[0] : last.cachedTokens();
        last = new Generation(model, tokenizer, cache, reusable, promptTokens, params);
        return last;
    }

    /** Generates to the end and returns text plus timings. */
    public GenerationResult generate(String prompt, GenerationParams params) {
        return generate(encodePrompt(prompt), params, null);
    }

    /** Generates, calling {@code onText(tokenIndex, text)} for every piece of final text as it appears. */
    public GenerationResult generate(String prompt, GenerationParams params, BiConsumer<Integer, String> onText) {
        return generate(encodePrompt(prompt), params, onText);
    }

    /** Replies to a conversation (rendered with the chat template). */
    public GenerationResult chat(List<ChatMessage> messages, GenerationParams params, BiConsumer<Integer, String> onText) {
        return generate(encodeChat(messages), params, onText);
    }

    public GenerationResult generate(int[] promptTokens, GenerationParams params, BiConsumer<Integer, String> onText) {
        Generation generation = start(promptTokens, params);
        int pieces = 0;
        while (generation.hasNext()) {
            String piece = generation.next();
            if (onText != null) onText.accept(pieces++, piece);
        }
        return generation.result();
    }

    @Override
    public void close() {
        model.close();
    }
}
