package ai.aether.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks tokens from logits as a {@link SamplerConfig} says. One per generation (it owns the
 * random stream); not thread-safe.
 */
public final class Sampler {
    /**
     * Candidates below max - CUTOFF * T in logit space have relative probability under e^-30
     * (1e-13); with a vocabulary under 1e6 their total mass is below 1e-7, so dropping them before
     * sorting changes no draw that fp32 could represent, and sorting stays cheap.
     */
    private static final float CUTOFF = 30f;

    private final SamplerConfig config;
    private final SplittableRandom random;

    public Sampler(SamplerConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    public SamplerConfig config() {
        return config;
    }

    /**
     * The next token.
     *
     * @param logits  [vocab], modified in place by the repetition penalty
     * @param history previous tokens (prompt and output), of which the last {@code historyLength} count
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        applyRepetitionPenalty(logits, history, historyLength);
        if (config.temperature() == 0f) return argmax(logits);
        return draw(logits);
    }

    private void applyRepetitionPenalty(float[] logits, int[] history, int historyLength) {
        float penalty = config.repetitionPenalty();
        if (penalty == 1f || config.repetitionWindow() == 0) return;
        boolean[] seen = new boolean[logits.length];
        for (int i = Math.max(0, historyLength - config.repetitionWindow()); i < historyLength; i++) {
            int id = history[i];
            if (id < 0 || id >= logits.length || seen[id]) continue;
            seen[id] = true;
            logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private int draw(float[] logits) {
        float temperature = config.temperature();
        float max = logits[argmax(logits)];
        float floor = max - CUTOFF * temperature;
        int count = 0;
        int[] ids = new int[logits.length];
        for (int i = 0; i < logits.length; i++) if (logits[i] >= floor) ids[count++] = i;
        // Sort candidates by logit, descending (ties by id), through packed sortable keys.
        long[] keys = new long[count];
        for (int c = 0; c < count; c++) keys[c] = ((long) sortableBits(logits[ids[c]]) << 32) | (0xFFFFFFFFL - ids[c]);
        Arrays.sort(keys);
        int kept = config.topK() > 0 ? Math.min(config.topK(), count) : count;
        int[] order = new int[kept];       // [kept] token ids, most likely first
        double[] probability = new double[kept];
        double sum = 0;
        for (int c = 0; c < kept; c++) {
            order[c] = (int) (0xFFFFFFFFL - (keys[count - 1 - c] & 0xFFFFFFFFL));
            probability[c] = Math.exp((logits[order[c]] - max) / temperature);
            sum += probability[c];
        }
        // top-p: smallest prefix whose mass reaches p
        double cumulative = 0;
        int nucleus = kept;
        for (int c = 0; c < kept; c++) {
            cumulative += probability[c] / sum;
            if (cumulative >= config.topP()) {
                nucleus = c + 1;
                break;
            }
        }
        // min-p: drop tokens below minP x the top probability
        int survivors = nucleus;
        if (config.minP() > 0) {
            double threshold = config.minP() * probability[0];
            survivors = 1;
            while (survivors < nucleus && probability[survivors] >= threshold) survivors++;
        }
        double total = 0;
        for (int c = 0; c < survivors; c++) total += probability[c];
        double target = random.nextDouble() * total;
        for (int c = 0; c < survivors; c++) {
            target -= probability[c];
            if (target < 0) return order[c];
        }
        return order[survivors - 1];
    }

    /** Float bits mapped so that signed long order equals float order (NaN-free input). */
    private static int sortableBits(float value) {
        int bits = Float.floatToIntBits(value);
        return bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
    }
}
