package ai.aether.tokenizer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * decode(encode(s)) == s over random Unicode text, and streaming decode equals whole decode.
 * Byte-level vocabularies may lack tokens for bytes their training text never had (SmolLM2 has
 * none for F1, falcon none for 03); encoding drops such bytes, as llama.cpp and HF do, so the
 * byte-level property checks text made of the code points the vocabulary can spell.
 */
@AddLifecycleHook(TokenizerRoundTripProperties.SkipWithoutSharedFiles.class)
class TokenizerRoundTripProperties {

    /** Skips the properties when ../shared is absent. */
    public static final class SkipWithoutSharedFiles implements SkipExecutionHook {
        @Override
        public SkipResult shouldBeSkipped(LifecycleContext context) {
            return Files.isDirectory(SharedFiles.SHARED.resolve("tokenizers"))
                    ? SkipResult.doNotSkip() : SkipResult.skip("../shared is absent (the shared data directory is not beside the repository)");
        }
    }

    /** Strings of valid code points, biased towards the characters pre-tokenizers treat specially. */
    @Provide
    Arbitrary<String> unicodeText() {
        Arbitrary<Integer> anyCodePoint = Arbitraries.integers().between(0, 0x10FFFF)
                .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE);
        Arbitrary<Integer> tricky = Arbitraries.of((int) ' ', (int) '\n', (int) '\t', (int) '\r', (int) '\'', (int) 's',
                (int) '7', 0x00A0, 0x3000, 0x0301, 0x1F999, 0x4E2D, (int) '<', (int) '|', 0x00B2);
        Arbitrary<Integer> ascii = Arbitraries.integers().between(0x20, 0x7E);
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(3, anyCodePoint), net.jqwik.api.Tuple.of(3, tricky), net.jqwik.api.Tuple.of(4, ascii))
                .list().ofMaxSize(40)
                .map(cps -> {
                    StringBuilder text = new StringBuilder();
                    cps.forEach(text::appendCodePoint);
                    return text.toString();
                });
    }

    @Property(tries = 300)
    void byteLevelRoundTrip(@ForAll("unicodeText") String text) {
        for (String file : new String[] {SharedFiles.SMOLLM2, SharedFiles.GPT2_VOCAB, "tokenizers/ggml-vocab-falcon.gguf",
                "tokenizers/ggml-vocab-deepseek-coder.gguf"}) {
            Tokenizer tokenizer = TokenizerCache.get(file);
            String spellable = spellable(tokenizer, text);
            int[] ids = tokenizer.encode(spellable, false, false);
            assertEquals(spellable, tokenizer.decode(ids), file);
            assertEquals(spellable, streamed(tokenizer, ids), file);
        }
    }

    @Property(tries = 300)
    void sentencePieceRoundTripWithByteFallback(@ForAll("unicodeText") String generated) {
        String text = generated.replace("\u2581", ""); // U+2581 is how SentencePiece writes a space: it decodes as ' '
        for (String file : new String[] {SharedFiles.STORIES, "tokenizers/ggml-vocab-llama-spm.gguf"}) {
            Tokenizer tokenizer = TokenizerCache.get(file);
            int[] ids = tokenizer.encode(text, true, false);
            assertEquals(text, tokenizer.decode(ids), file);
            // generation output keeps the prefix space: the stream is the text after the prefix space
            assertEquals(text.isEmpty() ? "" : " " + text, streamed(tokenizer, ids), file);
        }
    }

    @Property(tries = 100)
    void encodingIsDeterministicAcrossCacheHits(@ForAll("unicodeText") String text) {
        Tokenizer tokenizer = TokenizerCache.get(SharedFiles.SMOLLM2);
        assertArrayEquals(tokenizer.encode(text + text, false, false), tokenizer.encode(text + text, false, false));
    }

    /** {@code text} without the code points whose UTF-8 bytes include one the vocabulary has no token for. */
    private static String spellable(Tokenizer tokenizer, String text) {
        boolean[] covered = new boolean[256];
        for (int id = 0; id < tokenizer.vocabularySize(); id++) {
            byte[] piece = tokenizer.tokenBytes(id, false);
            if (piece.length == 1 && tokenizer.vocabulary().type(id) == TokenType.NORMAL) covered[piece[0] & 0xFF] = true;
        }
        StringBuilder kept = new StringBuilder();
        text.codePoints().forEach(cp -> {
            for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) if (!covered[b & 0xFF]) return;
            kept.appendCodePoint(cp);
        });
        return kept.toString();
    }

    private static String streamed(Tokenizer tokenizer, int[] ids) {
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        for (int id : ids) out.append(decoder.accept(id));
        return out.append(decoder.finish()).toString();
    }
}
