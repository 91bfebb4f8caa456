package ai.aether.engine;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each sampling rule against the distribution it defines, computed here in float64. */
class SamplerTest {
    private static final float[] LOGITS = {2.0f, 1.0f, 0.5f, 3.0f, -1.0f, 0.0f};

    private static int[] histogram(SamplerConfig config, int draws) {
        Sampler sampler = new Sampler(config);
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < draws; i++) counts[sampler.sample(LOGITS.clone(), new int[0], 0)]++;
        return counts;
    }

    @Test
    void greedyTakesTheArgmax() {
        assertEquals(3, new Sampler(SamplerConfig.GREEDY).sample(LOGITS.clone(), new int[0], 0));
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        float temperature = 0.7f;
        int draws = 200_000;
        int[] counts = histogram(new SamplerConfig(temperature, 0, 1f, 0f, 1f, 64, 11), draws);
        double z = 0;
        for (float l : LOGITS) z += Math.exp(l / temperature);
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i] / temperature) / z;
            double sigma = Math.sqrt(draws * p * (1 - p));
            assertEquals(draws * p, counts[i], 5 * sigma + 1, "token " + i); // 5 sigma: a false failure is ~1e-6
        }
    }

    @Test
    void topKTopPAndMinPKeepOnlyTheirSets() {
        // top-k 2: only the two largest logits (ids 3 and 0)
        int[] topK = histogram(new SamplerConfig(1f, 2, 1f, 0f, 1f, 64, 1), 20_000);
        assertEquals(20_000, topK[3] + topK[0]);
        assertTrue(topK[0] > 0 && topK[3] > topK[0]);
        // top-p: softmax at T=1 gives p(3)=0.61, p(0)=0.22, p(1)=0.08 ...; p=0.8 keeps {3, 0}, 0.85 adds 1
        double z = 0;
        for (float l : LOGITS) z += Math.exp(l);
        assertTrue(Math.exp(3) / z + Math.exp(2) / z > 0.8 && Math.exp(3) / z + Math.exp(2) / z < 0.85);
        int[] topP = histogram(new SamplerConfig(1f, 0, 0.8f, 0f, 1f, 64, 2), 20_000);
        assertEquals(20_000, topP[3] + topP[0]);
        int[] wider = histogram(new SamplerConfig(1f, 0, 0.85f, 0f, 1f, 64, 2), 20_000);
        assertEquals(20_000, wider[3] + wider[0] + wider[1]);
        assertTrue(wider[1] > 0);
        // min-p 0.3: keep tokens with p >= 0.3 p(3), i.e. logit >= 3 + ln 0.3 = 1.80: ids 3 and 0
        int[] minP = histogram(new SamplerConfig(1f, 0, 1f, 0.3f, 1f, 64, 3), 20_000);
        assertEquals(20_000, minP[3] + minP[0]);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = LOGITS.clone();
        // token 3 (logit 3) was seen: 3 / 2 = 1.5 < logit of token 0 (2.0), so greedy now picks 0
        int chosen = new Sampler(SamplerConfig.GREEDY.withRepetitionPenalty(2f)).sample(logits, new int[] {3, 4, 3}, 3);
        assertEquals(0, chosen);
        assertEquals(1.5f, logits[3]);
        assertEquals(-2f, logits[4]);
        assertEquals(2f, logits[0]);
        // outside the window (only the last 1 token counts): token 3 untouched
        float[] again = LOGITS.clone();
        new Sampler(new SamplerConfig(0f, 0, 1f, 0f, 2f, 1, 0)).sample(again, new int[] {3, 4}, 2);
        assertEquals(3f, again[3]);
    }

    @Test
    void sameSeedSameDrawsDifferentSeedDifferentDraws() {
        SamplerConfig config = SamplerConfig.sampling(1.5f, 42).withMinP(0f).withTopK(0);
        Sampler a = new Sampler(config), b = new Sampler(config), c = new Sampler(config.withSeed(43));
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder(), sc = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sa.append(a.sample(LOGITS.clone(), new int[0], 0));
            sb.append(b.sample(LOGITS.clone(), new int[0], 0));
            sc.append(c.sample(LOGITS.clone(), new int[0], 0));
        }
        assertEquals(sa.toString(), sb.toString());
        assertTrue(!sa.toString().equals(sc.toString()));
        Set<Character> distinct = new HashSet<>();
        for (char ch : sa.toString().toCharArray()) distinct.add(ch);
        assertTrue(distinct.size() > 2, "sampling at T=1.5 should visit several tokens: " + sa);
    }

    @Test
    void invalidSettingsNameTheFieldAndRange() {
        assertEquals("temperature must be in [0, 100], got -1.0",
                assertThrows(IllegalArgumentException.class, () -> SamplerConfig.GREEDY.withTemperature(-1f)).getMessage());
        assertEquals("top-p must be in (0, 1], got 0.0",
                assertThrows(IllegalArgumentException.class, () -> SamplerConfig.GREEDY.withTopP(0f)).getMessage());
        assertEquals("min-p must be in [0, 1), got 1.0",
                assertThrows(IllegalArgumentException.class, () -> SamplerConfig.GREEDY.withMinP(1f)).getMessage());
        assertEquals("top-k must be >= 0 (0 = off), got -3",
                assertThrows(IllegalArgumentException.class, () -> SamplerConfig.GREEDY.withTopK(-3)).getMessage());
        assertEquals("repetition penalty must be in [1, 10] (1 = off), got 0.5",
                assertThrows(IllegalArgumentException.class, () -> SamplerConfig.GREEDY.withRepetitionPenalty(0.5f)).getMessage());
    }
}
