package ai.aether.engine;

import ai.aether.attention.AetherConfig;
import ai.aether.kernels.ops.VectorMath;
import ai.aether.model.AetherKvCache;
import ai.aether.model.LayerSensitivityProbe;
import ai.aether.model.Model;
import ai.aether.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Greedy generation from one prompt under several attention settings, for comparisons. The
 * prompt is prefilled ONCE (prefill is dense whatever the setting, so it is identical for all)
 * into an {@link AetherKvCache}; each setting then decodes from that same cache, which is rewound
 * to the prompt in between. Dense runs read every block of the same cache with the same kernel,
 * so dense and AETHER differ only in the blocks visited.
 *
 * <pre>{@code
 * SideBySide.Outcome o = SideBySide.run(llm, prompt, 64,
 *         List.of(SideBySide.Setting.dense(), new SideBySide.Setting("aether-0.8", AetherConfig.defaults())), null);
 * double agreement = o.runs().get(1).agreementWith(o.runs().get(0));
 * }</pre>
 */
public final class SideBySide {

    /** A named attention setting; a null config is dense attention. */
    public record Setting(String name, AetherConfig config) {
        public Setting {
            Objects.requireNonNull(name, "name");
        }

        public static Setting dense() {
            return new Setting("dense", null);
        }
    }

    /**
     * One setting's greedy continuation.
     *
     * @param tokens       generated ids (the end-of-generation token excluded)
     * @param stepNanos    {@code [decode steps]} time of each decode step (every token after the first, which comes
     *                     from the shared prefill)
     * @param attention    what AETHER did (for dense: sparsity 0)
     */
    public record Run(Setting setting, int[] tokens, String text, long[] stepNanos, AttentionReport attention) {

        /** Decode speed from the median step time (robust to a stray slow step, e.g. a GC pause). */
        public double decodeTokensPerSecond() {
            if (stepNanos.length == 0) return 0;
            long[] sorted = stepNanos.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
            return 1e9 / median;
        }

        /** Tokens identical to {@code other}'s before the first difference. */
        public int commonPrefix(Run other) {
            int n = Math.min(tokens.length, other.tokens.length), i = 0;
            while (i < n && tokens[i] == other.tokens[i]) i++;
            return i;
        }

        /**
         * Share of positions where both runs produced the same token, over the longer run (a
         * position one run did not reach counts as a difference).
         */
        public double agreementWith(Run other) {
            int longest = Math.max(tokens.length, other.tokens.length), same = 0;
            if (longest == 0) return 1;
            for (int i = 0; i < Math.min(tokens.length, other.tokens.length); i++) if (tokens[i] == other.tokens[i]) same++;
            return (double) same / longest;
        }
    }

    /** Every setting's run, in the order given, plus the shared prefill. */
    public record Outcome(int promptTokens, long prefillNanos, List<Run> runs) {
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        }
    }

    /**
     * Decode steps per warm-up round, where the cache has room (positions beyond the prompt): more than
     * a block (64) and a selection-reuse interval (8), so that every path of a long decode is compiled
     * before the timed run, a new block opening while selections are reused included. With 4-step
     * rounds that path was first met in the timed run: the JIT threw away the compiled selection code
     * and the steps that followed took 2-3x as long until it was compiled again (8K demo: AETHER 86
     * instead of ~130 tok/s; the key-sketch column, timed next, 58).
     */
    public static final int WARM_UP_STEPS = 72;
    /**
     * Warm-up time per setting before anything is timed. The JIT compiles a decode path (selection,
     * rerank, sparse attention) with the optimising compiler only after thousands of calls; a few
     * steps left it compiling during the timed run, which on 2 cores halved the measured AETHER
     * decode speed at 8K (27 vs 84 tok/s, same prompt, same JVM, first vs second run).
     */
    private static final long WARM_UP_NANOS = 2_500_000_000L;
    /** ... or this many rounds, whichever comes first (a small model compiles long before the time is up). */
    private static final int WARM_UP_ROUNDS = 256;

    private SideBySide() {}

    /**
     * Runs every setting greedily for up to {@code maxTokens} tokens (stopping at the model's
     * end-of-generation tokens). Settings must share block size and KV dtype (they share the cache).
     *
     * @param progress receives a line as each phase starts, or null
     */
    public static Outcome run(LLM llm, int[] prompt, int maxTokens, List<Setting> settings, Consumer<String> progress) {
        if (settings.isEmpty()) throw new IllegalArgumentException("give at least one attention setting");
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        report(progress, "prefill: " + prompt.length + " tokens (once, shared by every setting)");
        int room = Math.max(maxTokens + 1, Math.min(maxTokens + WARM_UP_STEPS + 1, llm.contextLength() - prompt.length));
        try (Prefilled prefilled = Prefilled.of(llm, prompt, room, baseConfig(settings))) {
            return run(prefilled, maxTokens, settings, progress);
        }
    }

    /** {@link #run(LLM, int[], int, List, Consumer)} from a prompt already prefilled (with room for {@code maxTokens + 5}). */
    public static Outcome run(Prefilled prefilled, int maxTokens, List<Setting> settings, Consumer<String> progress) {
        return run(prefilled, maxTokens, settings, progress, true);
    }

    /**
     * As {@link #run(Prefilled, int, List, Consumer)}; {@code timed} false skips the warm-up, for callers
     * that want the tokens and statistics but not the step times (an evaluation: 2.5 s per setting saved).
     */
    public static Outcome run(Prefilled prefilled, int maxTokens, List<Setting> settings, Consumer<String> progress, boolean timed) {
        Model model = prefilled.llm().model();
        AetherKvCache cache = prefilled.cache();
        int length = prefilled.promptLength();
        if (timed) warmUp(prefilled, settings);
        List<Run> runs = new ArrayList<>();
        for (Setting s : settings) {
            report(progress, "decode: " + s.name());
            prefilled.rewind(s.config());
            runs.add(decode(model, prefilled.llm().tokenizer(), cache, length, prefilled.firstToken(), maxTokens, s));
        }
        return new Outcome(length, prefilled.prefillNanos(), List.copyOf(runs));
    }

    /**
     * Decodes warm-up rounds under every setting so that every path is compiled before anything is timed.
     * Odd rounds select at every step: a setting that reuses selections runs its radar on few steps of a round.
     */
    private static void warmUp(Prefilled prefilled, List<Setting> settings) {
        Model model = prefilled.llm().model();
        int length = prefilled.promptLength();
        for (Setting s : settings) {
            long start = System.nanoTime();
            int rounds = 0;
            AetherConfig everyStep = s.config() == null ? null : s.config().toBuilder().reselectInterval(1).build();
            int steps = Math.min(WARM_UP_STEPS, prefilled.cache().capacity() - length);
            do {
                prefilled.rewind(rounds % 2 == 1 ? everyStep : s.config());
                int token = prefilled.firstToken();
                for (int i = 0; i < steps; i++) token = Sampler.argmax(model.decode(token, length + i, prefilled.cache()));
            } while (++rounds < WARM_UP_ROUNDS && System.nanoTime() - start < WARM_UP_NANOS);
        }
    }

    /** The config the prompt is prefilled under (block size and KV dtype every setting must share): the first CALIBRATED setting's, else the first non-dense one's (defaults if all are dense). */
    public static AetherConfig baseConfig(List<Setting> settings) {
        List<AetherConfig> configs = settings.stream().map(Setting::config).filter(Objects::nonNull).toList();
        // a CALIBRATED setting prefills, so that the prefill's layer-sensitivity probe runs (every setting shares its result)
        return configs.stream().filter(LayerSensitivityProbe::wanted).findFirst()
                .orElse(configs.isEmpty() ? AetherConfig.defaults() : configs.get(0));
    }

    /**
     * A prompt prefilled once into an {@link AetherKvCache} (prefill is dense whatever the
     * setting), to decode from under several settings: {@link #rewind} before each. Close it to
     * return the blocks.
     *
     * @param firstToken   greedy token after the prompt (from the prefill's logits)
     * @param promptLogits the prefill's last-position logits {@code [vocab]}
     */
    public record Prefilled(LLM llm, AetherKvCache cache, int promptLength, float[] promptLogits, int firstToken, long prefillNanos)
            implements AutoCloseable {

        /** Prefills {@code prompt} with room for {@code extraPositions} more tokens. */
        public static Prefilled of(LLM llm, int[] prompt, int extraPositions, AetherConfig base) {
            return of(llm, prompt, extraPositions, base, new int[0]);
        }

        /** As above, keeping the prefill queries of {@code queryPositions} (ascending) for a KV dump. */
        public static Prefilled of(LLM llm, int[] prompt, int extraPositions, AetherConfig base, int[] queryPositions) {
            if (prompt.length == 0) throw new IllegalArgumentException("the prompt encodes to no tokens; give some text");
            int capacity = prompt.length + extraPositions;
            if (capacity > llm.contextLength()) {
                throw new IllegalArgumentException("prompt (" + prompt.length + " tokens) plus " + extraPositions
                        + " more positions exceed the context of " + llm.contextLength());
            }
            AetherKvCache cache = new AetherKvCache(llm.model().config(), capacity, base);
            try {
                if (queryPositions.length > 0) cache.recordPrefillQueries(queryPositions);
                long start = System.nanoTime();
                float[] logits = llm.model().prefill(prompt, 0, cache);
                long nanos = System.nanoTime() - start;
                return new Prefilled(llm, cache, prompt.length, logits, Sampler.argmax(logits), nanos);
            } catch (RuntimeException e) {
                cache.release();
                throw e;
            }
        }

        /** Back to the end of the prompt, decoding from now on with {@code config} (null: dense); statistics reset. */
        public void rewind(AetherConfig config) {
            cache.setConfig(config);
            cache.truncate(promptLength);
            cache.resetStats();
        }

        @Override
        public void close() {
            cache.release();
        }
    }

    /**
     * Teacher-forced agreement of one setting with dense attention.
     *
     * @param steps      positions compared
     * @param agreeing   positions where the setting's greedy token equals dense's
     * @param meanKl     mean KL(dense || setting) of the next-token distributions, in nats
     */
    public record Agreement(Setting setting, int steps, int agreeing, double meanKl) {
        public double share() {
            return steps == 0 ? 1 : (double) agreeing / steps;
        }
    }

    /**
     * Teacher-forced comparison: the dense greedy continuation is the history at every step; at
     * each position every setting predicts the next token from that same history (its own decode
     * step, then rewound), so one early difference does not make every later token differ as it
     * does in free-running generation. Counts positions where the greedy tokens agree and the KL
     * divergence of the distributions. Costs (settings + 1) decode steps per position.
     */
    public static List<Agreement> teacherForced(LLM llm, int[] prompt, int steps, List<Setting> settings) {
        try (Prefilled prefilled = Prefilled.of(llm, prompt, steps + 1, baseConfig(settings))) {
            return teacherForced(prefilled, steps, settings);
        }
    }

    /** {@link #teacherForced(LLM, int[], int, List)} from a prompt already prefilled (with room for {@code steps + 1}). */
    public static List<Agreement> teacherForced(Prefilled prefilled, int steps, List<Setting> settings) {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        Model model = prefilled.llm().model();
        AetherKvCache cache = prefilled.cache();
        prefilled.rewind(null);
        int[] agreeing = new int[settings.size()];
        double[] kl = new double[settings.size()];
        int token = prefilled.firstToken(), position = prefilled.promptLength();
        for (int step = 0; step < steps; step++) {
            float[][] logits = new float[settings.size()][];
            for (int i = 0; i < settings.size(); i++) {
                cache.setConfig(settings.get(i).config());
                logits[i] = model.decode(token, position, cache);
                cache.truncate(position);
            }
            cache.setConfig(null);
            float[] dense = model.decode(token, position++, cache);  // dense KV stays: the history is dense's
            int denseToken = Sampler.argmax(dense);
            for (int i = 0; i < settings.size(); i++) {
                if (Sampler.argmax(logits[i]) == denseToken) agreeing[i]++;
                kl[i] += klDivergence(dense, logits[i]);
            }
            token = denseToken;
        }
        List<Agreement> out = new ArrayList<>();
        for (int i = 0; i < settings.size(); i++) out.add(new Agreement(settings.get(i), steps, agreeing[i], kl[i] / steps));
        return out;
    }

    /** KL(p || q) in nats for the softmax distributions of two logit vectors, in float64. */
    public static double klDivergence(float[] pLogits, float[] qLogits) {
        return VectorMath.klDivergence(pLogits, qLogits);
    }

    private static Run decode(Model model, Tokenizer tokenizer, AetherKvCache cache, int position, int first, int maxTokens, Setting setting) {
        int[] tokens = new int[maxTokens];
        long[] stepNanos = new long[maxTokens];
        int count = 0, token = first, steps = 0;
        while (!tokenizer.isEndOfGeneration(token)) {
            tokens[count++] = token;
            if (count == maxTokens) break;
            long t0 = System.nanoTime();
            float[] logits = model.decode(token, position++, cache);
            stepNanos[steps++] = System.nanoTime() - t0;
            token = Sampler.argmax(logits);
        }
        int[] generated = Arrays.copyOf(tokens, count);
        return new Run(setting, generated, tokenizer.decode(generated), Arrays.copyOf(stepNanos, steps), AttentionReport.of(cache));
    }

    private static void report(Consumer<String> progress, String line) {
        if (progress != null) progress.accept(line);
    }
}
