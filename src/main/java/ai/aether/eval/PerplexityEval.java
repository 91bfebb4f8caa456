package ai.aether.eval;

import ai.aether.attention.AttentionStats;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.engine.SideBySide.Prefilled;
import ai.aether.engine.SideBySide.Setting;
import ai.aether.model.Model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Perplexity over long text where sparse attention acts: windows of {@code window} tokens taken
 * at evenly spaced offsets; the first {@code window - scored} tokens are prefilled (dense, once
 * per window), then the last {@code scored} tokens are fed one at a time (teacher forcing) under
 * each setting, and their negative log-likelihood is summed in float64. The first scored token is
 * predicted by the prefill itself, so it is the same for every setting.
 */
public final class PerplexityEval {

    /** One setting's result over all windows; {@code sparsity} is the block sparsity of its decode steps. */
    public record Result(String setting, int windows, long scoredTokens, double meanNll, double sparsity) {
        public double perplexity() {
            return Math.exp(meanNll);
        }
    }

    private PerplexityEval() {}

    public static List<Result> run(LLM llm, String text, int window, int scored, int windows, List<Setting> settings, EvalProgress progress) {
        if (window > llm.contextLength()) throw new IllegalArgumentException("window " + window + " exceeds the model's context " + llm.contextLength());
        if (scored < 1 || scored >= window) throw new IllegalArgumentException("scored tokens must be in [1, window), got " + scored);
        if (windows < 1) throw new IllegalArgumentException("windows must be >= 1, got " + windows);
        int[] all = llm.tokenizer().encode(text, false, false);
        if (all.length < window) {
            throw new IllegalArgumentException("the text has " + all.length + " tokens, fewer than one window of " + window);
        }
        Model model = llm.model();
        double[] nll = new double[settings.size()];
        AttentionStats[] stats = new AttentionStats[settings.size()];  // decode steps summed over windows
        for (int s = 0; s < stats.length; s++) stats[s] = new AttentionStats();
        progress.begin("perplexity", (long) windows * settings.size());
        for (int w = 0; w < windows; w++) {
            int start = windows == 1 ? 0 : (int) ((long) (all.length - window) * w / (windows - 1));
            int[] context = Arrays.copyOfRange(all, start, start + window - scored);
            int[] target = Arrays.copyOfRange(all, start + window - scored, start + window);  // [scored] tokens to predict
            try (Prefilled p = Prefilled.of(llm, context, scored, SideBySide.baseConfig(settings))) {
                for (int s = 0; s < settings.size(); s++) {
                    p.rewind(settings.get(s).config());
                    double sum = negativeLogLikelihood(p.promptLogits(), target[0]);
                    int position = p.promptLength();
                    for (int i = 0; i + 1 < scored; i++) {
                        float[] logits = model.decode(target[i], position++, p.cache());
                        sum += negativeLogLikelihood(logits, target[i + 1]);
                    }
                    nll[s] += sum;
                    stats[s].addAll(p.cache().total());
                    progress.advance("window " + (w + 1) + "/" + windows + ", " + settings.get(s).name());
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (int s = 0; s < settings.size(); s++) {
            results.add(new Result(settings.get(s).name(), windows, (long) windows * scored, nll[s] / ((long) windows * scored),
                    stats[s].sparsity()));
        }
        return results;
    }

    /** -log softmax(logits)[token] in float64. */
    static double negativeLogLikelihood(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return max + Math.log(sum) - logits[token];
    }
}
