package ai.aether.eval;

import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide.Prefilled;
import ai.aether.engine.SideBySide.Setting;
import ai.aether.model.Model;
import ai.aether.engine.SideBySide;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Pass-key retrieval (Mohtashami and Jaggi's landmark-attention test, as LongLoRA and Quest use
 * it): a random 5-digit key hidden at a given depth in repetitive filler text of a given length,
 * then "What is the pass key?". Correct when the greedy answer contains the key. Each prompt is
 * prefilled once and answered under every setting (prefill is dense; AETHER changes decode only).
 */
public final class PasskeyEval {

    static final String INTRO = "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. "
            + "I will quiz you about the important information there.\n";
    static final String FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
    static final String QUESTION = "\nWhat is the pass key? The pass key is";
    static final int ANSWER_TOKENS = 8;

    /** One grid cell's prompt. */
    public record Case(int contextLength, double depth, int trial, String key, int[] tokens) {}

    /** One setting's answer to one case. */
    public record Result(String setting, int contextLength, double depth, int trial, String key, String answer, boolean correct,
                         double sparsity) {}

    private PasskeyEval() {}

    /** The prompt of one grid cell: {@code contextLength} tokens at most (answer room included), key at {@code depth} in [0, 1]. */
    public static Case buildCase(LLM llm, int contextLength, double depth, int trial, long seed) {
        if (!(depth >= 0 && depth <= 1)) throw new IllegalArgumentException("needle depth must be in [0, 1], got " + depth);
        String key = String.format("%05d", new SplittableRandom(seed * 1_000_003L + contextLength * 131L + Math.round(depth * 1000) * 7L + trial)
                .nextInt(10000, 100000));
        String needle = "The pass key is " + key + ". Remember it. " + key + " is the pass key. ";
        int budget = contextLength - ANSWER_TOKENS - 1;
        int fixed = llm.encodePrompt(INTRO + needle + QUESTION).length;
        int perFiller = llm.tokenizer().encode(FILLER, false, false).length;
        int fillers = Math.max(0, (budget - fixed) / perFiller);
        int[] tokens;
        while (true) {
            int before = (int) Math.round(fillers * depth);
            String text = INTRO + FILLER.repeat(before) + needle + FILLER.repeat(fillers - before) + QUESTION;
            tokens = llm.encodePrompt(text);
            if (tokens.length <= budget || fillers == 0) break;
            fillers--;
        }
        if (tokens.length > budget) {
            throw new IllegalArgumentException("a pass-key prompt needs more than " + contextLength + " tokens; use a longer context length");
        }
        return new Case(contextLength, depth, trial, key, tokens);
    }

    /** Runs the grid. Results are ordered case by case, settings in the given order within a case. */
    public static List<Result> run(LLM llm, List<Setting> settings, int[] contextLengths, double[] depths, int trials, long seed,
                                   EvalProgress progress) {
        for (int length : contextLengths) {
            if (length > llm.contextLength()) {
                throw new IllegalArgumentException("context length " + length + " exceeds the model's " + llm.contextLength());
            }
        }
        progress.begin("passkey", (long) contextLengths.length * depths.length * trials);
        List<Result> results = new ArrayList<>();
        Model model = llm.model();
        for (int length : contextLengths) {
            for (double depth : depths) {
                for (int trial = 0; trial < trials; trial++) {
                    Case c = buildCase(llm, length, depth, trial, seed);
                    try (Prefilled p = Prefilled.of(llm, c.tokens(), ANSWER_TOKENS + 1, SideBySide.baseConfig(settings))) {
                        for (Setting s : settings) {
                            p.rewind(s.config());
                            int[] answer = greedy(model, p, ANSWER_TOKENS, llm);
                            String text = llm.tokenizer().decode(answer);
                            results.add(new Result(s.name(), length, depth, trial, c.key(), text.strip(), text.contains(c.key()),
                                    p.cache().total().sparsity()));
                        }
                    }
                    progress.advance(length + " tokens, depth " + Math.round(depth * 100) + "%");
                }
            }
        }
        return results;
    }

    private static int[] greedy(Model model, Prefilled p, int maxTokens, LLM llm) {
        int[] out = new int[maxTokens];
        int token = p.firstToken(), position = p.promptLength(), count = 0;
        while (count < maxTokens && !llm.tokenizer().isEndOfGeneration(token)) {
            out[count++] = token;
            if (count == maxTokens) break;
            token = argmax(model.decode(token, position++, p.cache()));
        }
        return Arrays.copyOf(out, count);
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Accuracy of {@code setting} over the results of one (context length, depth) cell, or NaN when there are none. */
    public static double accuracy(List<Result> results, String setting, int contextLength, double depth) {
        int n = 0, correct = 0;
        for (Result r : results) {
            if (r.setting().equals(setting) && r.contextLength() == contextLength && r.depth() == depth) {
                n++;
                if (r.correct()) correct++;
            }
        }
        return n == 0 ? Double.NaN : (double) correct / n;
    }
}
