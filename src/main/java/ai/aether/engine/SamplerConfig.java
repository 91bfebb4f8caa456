package ai.aether.engine;

/**
 * How the next token is chosen from the logits, applied in this order: repetition penalty,
 * temperature, top-k, softmax, top-p, min-p, then a draw. Temperature 0 is greedy (argmax
 * after the penalty; the other filters then change nothing).
 *
 * @param temperature       0 (greedy) or a positive divisor of the logits, at most 100
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set whose probability reaches p, in (0, 1]; 1 keeps all
 * @param minP              drop tokens below minP times the top probability, in [0, 1); 0 keeps all
 * @param repetitionPenalty >= 1; the logits of tokens among the last {@code repetitionWindow}
 *                          are divided by it when positive and multiplied when negative (1 = off)
 * @param repetitionWindow  tokens of history the penalty looks at, >= 0
 * @param seed              seed of the random draw (same seed, same output)
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                            int repetitionWindow, long seed) {

    /** Greedy decoding, no penalty. */
    public static final SamplerConfig GREEDY = new SamplerConfig(0f, 0, 1f, 0f, 1f, 64, 0L);

    public SamplerConfig {
        if (!(temperature >= 0 && temperature <= 100)) throw new IllegalArgumentException("temperature must be in [0, 100], got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        if (!(repetitionPenalty >= 1 && repetitionPenalty <= 10)) {
            throw new IllegalArgumentException("repetition penalty must be in [1, 10] (1 = off), got " + repetitionPenalty);
        }
        if (repetitionWindow < 0) throw new IllegalArgumentException("repetition window must be >= 0, got " + repetitionWindow);
    }

    /** Sampling at {@code temperature} with llama.cpp's usual filters (top-k 40, top-p 0.95, min-p 0.05). */
    public static SamplerConfig sampling(float temperature, long seed) {
        return new SamplerConfig(temperature, 40, 0.95f, 0.05f, 1f, 64, seed);
    }

    public SamplerConfig withTemperature(float value) { return new SamplerConfig(value, topK, topP, minP, repetitionPenalty, repetitionWindow, seed); }
    public SamplerConfig withTopK(int value) { return new SamplerConfig(temperature, value, topP, minP, repetitionPenalty, repetitionWindow, seed); }
    public SamplerConfig withTopP(float value) { return new SamplerConfig(temperature, topK, value, minP, repetitionPenalty, repetitionWindow, seed); }
    public SamplerConfig withMinP(float value) { return new SamplerConfig(temperature, topK, topP, value, repetitionPenalty, repetitionWindow, seed); }
    public SamplerConfig withRepetitionPenalty(float value) { return new SamplerConfig(temperature, topK, topP, minP, value, repetitionWindow, seed); }
    public SamplerConfig withSeed(long value) { return new SamplerConfig(temperature, topK, topP, minP, repetitionPenalty, repetitionWindow, value); }
}
