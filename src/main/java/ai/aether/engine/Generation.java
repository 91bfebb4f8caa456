package ai.aether.engine;

import ai.aether.attention.AttentionStats;
import ai.aether.model.AetherKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.Model;
import ai.aether.tokenizer.StreamingDecoder;
import ai.aether.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * One generation in progress, as an iterator over text pieces: each {@link #next} returns the
 * text that became final (whole UTF-8 characters, and never a prefix of a stop string that might
 * still complete). The prompt is prefilled on the first {@link #hasNext}; after the iterator is
 * exhausted {@link #result} holds the whole text and the timings.
 *
 * <pre>{@code
 * Generation generation = llm.start("Once upon a time", GenerationParams.greedy(32));
 * while (generation.hasNext()) System.out.print(generation.next());
 * System.out.println(generation.result().timings().summary());
 * }</pre>
 */
public final class Generation implements Iterator<String> {
    private final Model model;
    private final Tokenizer tokenizer;
    private final KvCache cache;
    private final GenerationParams params;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final int maxStopLength;

    private int[] history;        // [capacity] token ids: prompt then generated; the first `position` have KV entries
    private int historyLength;
    private int position;         // tokens whose keys/values are in the cache
    private final int promptEnd;  // history index where generated tokens begin
    private final int reusedPrefix;

    private final StringBuilder text = new StringBuilder();
    private int emitted;          // chars of `text` already returned
    private String pendingPiece;  // the next piece to return, computed by hasNext
    private GenerationResult result;

    private long startNanos, firstTokenNanos, prefillNanos;
    private int generated;

    /**
     * @param cachedTokens  tokens whose KV entries are already in {@code cache} at positions 0.. (a
     *                      previous turn); the longest common prefix with {@code prompt} is reused
     */
    Generation(Model model, Tokenizer tokenizer, KvCache cache, int[] cachedTokens, int[] prompt, GenerationParams params) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt encodes to no tokens; give some text");
        if (prompt.length >= cache.capacity()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; the context holds " + cache.capacity());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.cache = cache;
        this.params = params;
        this.sampler = new Sampler(params.sampler());
        this.decoder = tokenizer.streamingDecoder(false);
        this.maxStopLength = params.stopStrings().stream().mapToInt(String::length).max().orElse(0);
        int common = 0;
        while (common < cachedTokens.length && common < prompt.length && cachedTokens[common] == prompt[common]) common++;
        this.reusedPrefix = Math.min(common, prompt.length - 1); // at least one token runs, to get logits
        this.history = Arrays.copyOf(prompt, Math.max(16, prompt.length * 2));
        this.historyLength = prompt.length;
        this.promptEnd = prompt.length;
        this.position = reusedPrefix;
    }

    /** Tokens with KV entries in the cache (prompt and fed-back output), for reuse by a next turn. */
    int[] cachedTokens() {
        return Arrays.copyOf(history, position);
    }

    @Override
    public boolean hasNext() {
        while (pendingPiece == null && result == null) step();
        if (pendingPiece != null) return true;
        return false;
    }

    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException("generation finished");
        String piece = pendingPiece;
        pendingPiece = null;
        return piece;
    }

    /**
     * What AETHER did in each layer during the latest decode step ({@code [layers]}: blocks kept,
     * sparsity, bytes, certified bound), or an empty array when the cache is dense. The objects are
     * live: the next step overwrites them.
     */
    public AttentionStats[] lastStepStats() {
        if (!(cache instanceof AetherKvCache aether)) return new AttentionStats[0];
        AttentionStats[] stats = new AttentionStats[aether.layers()];
        for (int layer = 0; layer < stats.length; layer++) stats[layer] = aether.lastStep(layer);
        return stats;
    }

    /** Runs to the end, then returns the result. */
    public GenerationResult result() {
        while (hasNext()) next();
        return result;
    }

    /** One token: prefill or decode, sample, check stops, queue the text that became final. */
    private void step() {
        float[] logits;
        if (startNanos == 0) {
            startNanos = System.nanoTime();
            int[] newTokens = Arrays.copyOfRange(history, reusedPrefix, promptEnd);
            cache.truncate(reusedPrefix);
            logits = model.prefill(newTokens, reusedPrefix, cache);
            position = promptEnd;
            prefillNanos = System.nanoTime() - startNanos;
            if (cache instanceof AetherKvCache aether) aether.resetStats();
        } else {
            logits = model.decode(history[historyLength - 1], position, cache);
            position++;
        }
        int token = sampler.sample(logits, history, historyLength);
        generated++;
        if (generated == 1) firstTokenNanos = System.nanoTime();
        if (tokenizer.isEndOfGeneration(token) || params.stopTokens().contains(token)) {
            finish(GenerationResult.StopReason.STOP_TOKEN);
            return;
        }
        append(token);
        text.append(decoder.accept(token));
        int stopAt = findStopString();
        if (stopAt >= 0) {
            text.setLength(stopAt);
            finish(GenerationResult.StopReason.STOP_STRING);
        } else if (historyLength - promptEnd >= params.maxTokens()) {
            finish(GenerationResult.StopReason.MAX_TOKENS);
        } else if (position + 1 >= cache.capacity()) {
            finish(GenerationResult.StopReason.CONTEXT_FULL);
        } else {
            int safeEnd = Math.max(emitted, text.length() - Math.max(0, maxStopLength - 1));
            queue(safeEnd);
        }
    }

    private void append(int token) {
        if (historyLength == history.length) history = Arrays.copyOf(history, history.length * 2);
        history[historyLength++] = token;
    }

    /** Start of the first stop string in the text, or -1; only the tail new text can complete is searched. */
    private int findStopString() {
        int best = -1;
        for (String stop : params.stopStrings()) {
            int from = Math.max(0, emitted - stop.length());
            int at = text.indexOf(stop, from);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best;
    }

    private void queue(int end) {
        if (end > emitted) {
            pendingPiece = text.substring(emitted, end);
            emitted = end;
        }
    }

    private void finish(GenerationResult.StopReason reason) {
        if (reason != GenerationResult.StopReason.STOP_STRING) text.append(decoder.finish());
        queue(text.length());
        long end = System.nanoTime();
        GenerationResult.Timings timings = new GenerationResult.Timings(promptEnd - reusedPrefix, prefillNanos,
                firstTokenNanos - startNanos, generated, end - firstTokenNanos);
        AttentionReport attention = cache instanceof AetherKvCache aether ? AttentionReport.of(aether) : null;
        result = new GenerationResult(text.toString(), Arrays.copyOfRange(history, promptEnd, historyLength), reason, timings, attention,
                MemoryReport.of(model, cache));
    }
}
