package ai.aether.engine;

import ai.aether.model.SharedModels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generation API on stories260K: stop rules, streaming, prefix reuse, timings. */
class LLMTest {
    private static final String LILY = " there was a little girl named Lily.";

    @Test
    void greedyGenerationContinuesTheStory() throws Exception {
        try (LLM llm = LLM.load(SharedModels.require(SharedModels.STORIES_F32))) {
            GenerationResult result = llm.generate("Once upon a time,", GenerationParams.greedy(20));
            assertTrue(result.text().startsWith(LILY), result.text());
            assertEquals(GenerationResult.StopReason.MAX_TOKENS, result.stopReason());
            assertEquals(20, result.tokens().length);
            // whole-sequence decoding drops SentencePiece's leading space; a continuation keeps it
            assertEquals(" " + llm.tokenizer().decode(result.tokens()), result.text());
            GenerationResult.Timings timings = result.timings();
            assertEquals(20, timings.generatedTokens());
            assertEquals(llm.encodePrompt("Once upon a time,").length, timings.promptTokens());
            assertTrue(timings.prefillTokensPerSecond() > 0 && timings.decodeTokensPerSecond() > 0 && timings.timeToFirstTokenNanos() > 0);
        }
    }

    @Test
    void streamingPiecesConcatenateToTheText() throws Exception {
        try (LLM llm = LLM.load(SharedModels.require(SharedModels.STORIES_Q8_0))) {
            List<String> pieces = new ArrayList<>();
            GenerationResult result = llm.generate("Once upon a time,", GenerationParams.greedy(30), (i, text) -> pieces.add(text));
            assertTrue(pieces.size() > 5);
            assertEquals(result.text(), String.join("", pieces));
            Generation iterator = llm.start("Once upon a time,", GenerationParams.greedy(30));
            StringBuilder iterated = new StringBuilder();
            while (iterator.hasNext()) iterated.append(iterator.next());
            assertEquals(result.text(), iterated.toString());
        }
    }

    @Test
    void stopStringEndsTheTextBeforeIt() throws Exception {
        try (LLM llm = LLM.load(SharedModels.require(SharedModels.STORIES_F32))) {
            List<String> pieces = new ArrayList<>();
            GenerationResult result = llm.generate("Once upon a time,",
                    GenerationParams.greedy(60).withStopStrings(List.of("named")), (i, text) -> pieces.add(text));
            assertEquals(GenerationResult.StopReason.STOP_STRING, result.stopReason());
            assertEquals(" there was a little girl ", result.text());
            assertFalse(String.join("", pieces).contains("nam"), "no prefix of the stop string is streamed");
        }
    }

    @Test
    void stopTokenEndsGenerationWithoutItsText() throws Exception {
        try (LLM llm = LLM.load(SharedModels.require(SharedModels.STORIES_F32))) {
            GenerationResult free = llm.generate("Once upon a time,", GenerationParams.greedy(10));
            int third = free.tokens()[2];
            GenerationResult stopped = llm.generate("Once upon a time,", GenerationParams.greedy(10).withStopTokens(Set.of(third)));
            assertEquals(GenerationResult.StopReason.STOP_TOKEN, stopped.stopReason());
            assertArrayEquals(java.util.Arrays.copyOf(free.tokens(), 2), stopped.tokens());
        }
    }

    @Test
    void reusedPrefixGivesTheSameOutputAsAFreshCache() throws Exception {
        try (LLM reused = LLM.load(SharedModels.require(SharedModels.STORIES_F32));
             LLM fresh = LLM.load(SharedModels.STORIES_F32)) {
            reused.generate("Once upon a time, there was a dog", GenerationParams.greedy(5));
            GenerationResult second = reused.generate("Once upon a time, there was a dog named Max.", GenerationParams.greedy(15));
            GenerationResult reference = fresh.generate("Once upon a time, there was a dog named Max.", GenerationParams.greedy(15));
            assertEquals(reference.text(), second.text());
            assertTrue(second.timings().promptTokens() < reference.timings().promptTokens(),
                    "the shared prefix is not prefilled again: " + second.timings().promptTokens() + " vs " + reference.timings().promptTokens());
        }
    }

    @Test
    void aRewindTellsTheCacheWhereTheSharedPrefixEnds() throws Exception {
        java.util.List<Integer> truncations = new ArrayList<>();
        KvCacheFactory recording = (config, capacity) -> new RecordingCache(KvCacheFactory.DENSE_F32.create(config, capacity), truncations);
        try (LLM llm = LLM.load(SharedModels.require(SharedModels.STORIES_F32), LLM.Options.DEFAULT.withKvCache(recording))) {
            int[] first = llm.encodePrompt("Once upon a time, there was a dog");
            int[] second = llm.encodePrompt("Once upon a time, there was a cat");
            int shared = 0;
            while (first[shared] == second[shared]) shared++;
            llm.generate(first, GenerationParams.greedy(4), null);
            llm.generate(second, GenerationParams.greedy(4), null);
            assertEquals(List.of(0, shared), truncations);
        }
    }

    /** Delegates to a real cache and records truncate calls. */
    private record RecordingCache(ai.aether.model.KvCache inner, java.util.List<Integer> truncations) implements ai.aether.model.KvCache {
        public int layers() { return inner.layers(); }
        public int kvHeads() { return inner.kvHeads(); }
        public int headDim() { return inner.headDim(); }
        public int capacity() { return inner.capacity(); }
        public long kvBytes() { return inner.kvBytes(); }
        public void write(int layer, int position, int tokens, float[] keys, float[] values) { inner.write(layer, position, tokens, keys, values); }
        public void attend(int layer, int position, int tokens, float[] queries, int heads, float[] out) { inner.attend(layer, position, tokens, queries, heads, out); }
        public void truncate(int length) { truncations.add(length); inner.truncate(length); }
    }

    @Test
    void contextFullStopsGeneration() throws Exception {
        try (LLM llm = LLM.load(SharedModels.require(SharedModels.STORIES_F32), LLM.Options.DEFAULT.withContextLength(12))) {
            GenerationResult result = llm.generate("Once upon a time,", GenerationParams.greedy(100));
            assertEquals(GenerationResult.StopReason.CONTEXT_FULL, result.stopReason());
            assertTrue(result.tokens().length < 12);
        }
    }
}
