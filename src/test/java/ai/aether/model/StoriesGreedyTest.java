package ai.aether.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** stories260K's published greedy continuation of BOS, decoded with the model's own vocabulary pieces. */
class StoriesGreedyTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf"})
    void greedyStoryStartsWithLily(String file) throws Exception {
        Path path = SharedModels.require(SharedModels.DIR.resolve("stories260K").resolve(file));
        try (Model model = Model.load(path)) {
            String[] pieces = model.gguf().getStringArray("tokenizer.ggml.tokens");
            KvCache cache = model.newKvCache(64);
            int bos = 1;
            float[] logits = model.prefill(new int[] {bos}, 0, cache);
            StringBuilder text = new StringBuilder();
            for (int position = 1; position < 40; position++) {
                int next = argmax(logits);
                text.append(pieces[next].replace('\u2581', ' '));
                logits = model.decode(next, position, cache);
            }
            String story = text.toString().strip();
            assertTrue(story.startsWith("Once upon a time, there was a little girl named Lily."), file + ": " + story);
        }
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
