package ai.aether.engine;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What one generation may produce.
 *
 * @param maxTokens   tokens to generate at most, >= 1 (also bounded by the context length)
 * @param sampler     how tokens are chosen
 * @param stopStrings generation ends when the output contains one; the text ends before it
 * @param stopTokens  token ids that end generation besides the model's end-of-generation tokens
 *                    (EOS, {@code <|im_end|>}, ...); the stop token itself is not part of the text
 */
public record GenerationParams(int maxTokens, SamplerConfig sampler, List<String> stopStrings, Set<Integer> stopTokens) {

    public GenerationParams {
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        Objects.requireNonNull(sampler, "sampler");
        stopStrings = List.copyOf(stopStrings);
        for (String stop : stopStrings) if (stop.isEmpty()) throw new IllegalArgumentException("stop strings must not be empty");
        stopTokens = Set.copyOf(stopTokens);
    }

    /** Greedy decoding of up to {@code maxTokens} tokens, no stop strings. */
    public static GenerationParams greedy(int maxTokens) {
        return new GenerationParams(maxTokens, SamplerConfig.GREEDY, List.of(), Set.of());
    }

    public GenerationParams withSampler(SamplerConfig value) { return new GenerationParams(maxTokens, value, stopStrings, stopTokens); }
    public GenerationParams withMaxTokens(int value) { return new GenerationParams(value, sampler, stopStrings, stopTokens); }
    public GenerationParams withStopStrings(List<String> value) { return new GenerationParams(maxTokens, sampler, value, stopTokens); }
    public GenerationParams withStopTokens(Set<Integer> value) { return new GenerationParams(maxTokens, sampler, stopStrings, value); }
}
