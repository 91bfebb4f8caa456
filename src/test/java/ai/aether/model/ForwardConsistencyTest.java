package ai.aether.model;

import ai.aether.kernels.Parallel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batched prefill (tiled matmuls, chunked) and token-by-token decode are two routes through the
 * same maths: their logits must agree to fp32 rounding, at any thread count.
 */
class ForwardConsistencyTest {

    @Test
    void prefillEqualsTokenByTokenDecode() throws Exception {
        Path path = SharedModels.require(SharedModels.STORIES_Q4_0);
        int before = Parallel.threads();
        try (Model model = Model.load(path)) {
            int[] tokens = new int[300]; // more than one 256-token chunk
            for (int i = 0; i < tokens.length; i++) tokens[i] = 1 + (i * 37) % 500;
            Parallel.setThreads(2);
            float[] batched = model.prefill(tokens, 0, model.newKvCache(320));
            Parallel.setThreads(1);
            KvCache cache = model.newKvCache(320);
            float[] stepwise = null;
            for (int i = 0; i < tokens.length; i++) stepwise = model.decode(tokens[i], i, cache);
            double maxAbs = 0;
            for (float v : stepwise) maxAbs = Math.max(maxAbs, Math.abs(v));
            for (int v = 0; v < batched.length; v++) {
                assertEquals(stepwise[v], batched[v], 1e-4 * maxAbs, "logit " + v);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void refusesPositionsBeyondTheCacheAndBadTokens() throws Exception {
        Path path = SharedModels.require(SharedModels.STORIES_F32);
        try (Model model = Model.load(path)) {
            KvCache cache = model.newKvCache(8);
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> model.prefill(new int[9], 0, cache));
            assertTrue(full.getMessage().contains("exceed the KV capacity 8"), full.getMessage());
            IllegalArgumentException token = assertThrows(IllegalArgumentException.class, () -> model.decode(512, 0, cache));
            assertTrue(token.getMessage().contains("token id 512 outside the vocabulary [0, 512)"), token.getMessage());
        }
    }
}
