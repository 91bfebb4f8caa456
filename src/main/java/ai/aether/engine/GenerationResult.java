package ai.aether.engine;

/**
 * The outcome of one generation.
 *
 * @param text        generated text (without the prompt, the stop token or the stop string)
 * @param tokens      generated token ids, the stop token excluded
 * @param stopReason  why generation ended
 * @param timings     prompt and generation speed
 * @param attention   what AETHER attention did during decode, or null when the cache is dense
 * @param memory      what the model and its KV cache hold, and the process's peak resident set, at the end
 */
public record GenerationResult(String text, int[] tokens, StopReason stopReason, Timings timings, AttentionReport attention,
                               MemoryReport memory) {

    /** Why a generation ended. */
    public enum StopReason {
        /** The model produced an end-of-generation or user stop token. */
        STOP_TOKEN,
        /** The text reached one of the stop strings. */
        STOP_STRING,
        /** maxTokens were generated. */
        MAX_TOKENS,
        /** The KV cache (context) is full. */
        CONTEXT_FULL
    }

    /**
     * Wall-clock timings of one generation.
     *
     * @param promptTokens      tokens prefilled (new tokens only, a reused cached prefix is not counted)
     * @param prefillNanos      time to process them
     * @param timeToFirstTokenNanos from the call to the first generated token being known
     * @param generatedTokens   tokens sampled (including a final stop token)
     * @param decodeNanos       time of the decode steps after the first token
     */
    public record Timings(int promptTokens, long prefillNanos, long timeToFirstTokenNanos, int generatedTokens, long decodeNanos) {

        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        }

        /** Tokens per second over the decode steps (the first token comes from the prefill). */
        public double decodeTokensPerSecond() {
            return decodeNanos == 0 ? 0 : (generatedTokens - 1) * 1e9 / decodeNanos;
        }

        public double timeToFirstTokenMillis() {
            return timeToFirstTokenNanos / 1e6;
        }

        /** One line for the CLI: prompt and generation speed, time to first token. */
        public String summary() {
            return String.format("prompt: %d tokens, %.1f tok/s | generation: %d tokens, %.1f tok/s | time to first token: %.0f ms",
                    promptTokens, prefillTokensPerSecond(), generatedTokens, decodeTokensPerSecond(), timeToFirstTokenMillis());
        }
    }
}
