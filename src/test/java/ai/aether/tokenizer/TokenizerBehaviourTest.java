package ai.aether.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Special tokens, BOS/EOS flags, decoding and errors, on small hand-made vocabularies and the shared files. */
class TokenizerBehaviourTest {

    /** A SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then a few pieces with scores. */
    private static Vocabulary tinySentencePiece() {
        String[] pieces = {"▁", "h", "e", "l", "o", "he", "ll", "hell", "hello", "▁hello", "<ctl>"};
        float[] pieceScores = {-1, -5, -5, -5, -5, -2, -2, -1.5f, -1, -0.5f, 0};
        int n = 3 + 256 + pieces.length;
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        tokens[0] = "<unk>"; types[0] = TokenType.UNKNOWN.ordinal();
        tokens[1] = "<s>"; types[1] = TokenType.CONTROL.ordinal();
        tokens[2] = "</s>"; types[2] = TokenType.CONTROL.ordinal();
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = TokenType.BYTE.ordinal();
        }
        for (int i = 0; i < pieces.length; i++) {
            tokens[259 + i] = pieces[i];
            scores[259 + i] = pieceScores[i];
            types[259 + i] = pieces[i].equals("<ctl>") ? TokenType.CONTROL.ordinal() : TokenType.NORMAL.ordinal();
        }
        return new Vocabulary("llama", "default", tokens, scores, types, null, 1, 2, 0, -1, true, true, true, Optional.empty());
    }

    private static int id(Vocabulary vocabulary, String token) {
        for (int i = 0; i < vocabulary.size(); i++) if (vocabulary.tokens()[i].equals(token)) return i;
        throw new AssertionError(token);
    }

    @Test
    void sentencePieceMergesByScoreAndFallsBackToBytes() {
        Vocabulary v = tinySentencePiece();
        Tokenizer tokenizer = Tokenizer.create(v);
        // "▁hello" is one piece; "é" has no piece, so its two UTF-8 bytes C3 A9 become byte tokens
        assertArrayEquals(new int[] {id(v, "▁hello"), id(v, "<0xC3>"), id(v, "<0xA9>")}, tokenizer.encode("helloé", false, false));
        assertArrayEquals(new int[] {1, id(v, "▁hello"), 2}, tokenizer.encode("hello", true, false));
        assertEquals("helloé", tokenizer.decode(tokenizer.encode("helloé", true, false)));
    }

    @Test
    void sentencePieceWithoutByteTokensUsesUnknown() {
        String[] tokens = {"<unk>", "▁", "a", "▁a"};
        Vocabulary v = new Vocabulary("llama", "default", tokens, new float[] {0, -1, -1, -0.5f},
                new int[] {TokenType.UNKNOWN.ordinal(), 1, 1, 1}, null, -1, -1, 0, -1, false, false, true, Optional.empty());
        Tokenizer tokenizer = Tokenizer.create(v);
        // "é" is two UTF-8 bytes and no piece: one unknown per byte, as llama.cpp's byte fallback does without byte tokens
        assertArrayEquals(new int[] {3, 0, 0, 2}, tokenizer.encode("aéa", false, false));
        assertEquals("a\u2585\u2585a", tokenizer.decode(tokenizer.encode("aéa", false, false)));
    }

    @Test
    void controlTokenTextIsParsedOnlyWhenAsked() {
        Vocabulary v = tinySentencePiece();
        Tokenizer tokenizer = Tokenizer.create(v);
        int[] parsed = tokenizer.encode("hello<ctl>hello", false, true);
        // the text after a special token gets the space prefix again, as in llama.cpp
        assertArrayEquals(new int[] {id(v, "▁hello"), id(v, "<ctl>"), id(v, "▁hello")}, parsed);
        int[] plain = tokenizer.encode("hello<ctl>", false, false);
        assertTrue(plain.length > 2 && plain[1] == id(v, "<0x3C>"), "'<' is bytes when specials are not parsed");
        assertEquals("hello hello", tokenizer.decode(parsed)); // the second prefix space is real text now
        assertEquals("hello<ctl> hello", tokenizer.decode(parsed, true));
    }

    @Test
    void bosAndEosFollowTheFileFlags() {
        Tokenizer smol = TokenizerCache.get(SharedFiles.SMOLLM2); // add_bos_token false
        assertArrayEquals(smol.encode("Hi", false, false), smol.encode("Hi", true, false));
        Tokenizer llama = TokenizerCache.get("tokenizers/ggml-vocab-llama-spm.gguf"); // add_bos_token true
        int[] withBos = llama.encode("Hi", true, false);
        assertEquals(1, withBos[0]);
        assertArrayEquals(llama.encode("Hi", false, false), java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
        Tokenizer stories = TokenizerCache.get(SharedFiles.STORIES); // no flag: SentencePiece adds BOS
        assertEquals(1, stories.encode("Once", true, false)[0]);
    }

    @Test
    void vocabularyMetadataAndLlamaCppDefaults() {
        Vocabulary stories = SharedFiles.vocabulary(SharedFiles.STORIES); // no tokenizer.ggml.pre, no add_* flags
        assertEquals("llama", stories.model());
        assertEquals("default", stories.preTokenizer());
        assertEquals(512, stories.size());
        assertTrue(stories.addBos() && !stories.addEos() && stories.addSpacePrefix());
        assertEquals(-1, stories.paddingId(), "padding_token_id 4294967295 means none");
        Vocabulary smol = SharedFiles.vocabulary(SharedFiles.SMOLLM2);
        assertEquals("smollm", smol.preTokenizer());
        assertEquals(48900, smol.merges().length);
        assertTrue(!smol.addBos() && !smol.addSpacePrefix());
        assertEquals(2, smol.paddingId());
        assertTrue(smol.chatTemplate().orElseThrow().contains("<|im_start|>"));
        assertEquals(TokenType.CONTROL, smol.type(1));
    }

    @Test
    void specialIdsOfSmolLm2() {
        Tokenizer smol = TokenizerCache.get(SharedFiles.SMOLLM2);
        assertEquals(1, smol.bosId());
        assertEquals(2, smol.eosId());
        assertEquals("<|im_start|>", smol.tokenText(1));
        assertTrue(smol.isEndOfGeneration(2) && smol.isEndOfGeneration(0), "<|im_end|> and <|endoftext|> end generation");
        assertArrayEquals(new int[] {1, 4093, 198}, smol.encode("<|im_start|>user\n", false, true));
    }

    @Test
    void byteLevelDecodeRestoresBytesAndSkipsControlTokens() {
        Tokenizer smol = TokenizerCache.get(SharedFiles.SMOLLM2);
        String text = "  Héllo,\n\tworld 🦙 42";
        assertEquals(text, smol.decode(smol.encode(text, false, false)));
        assertEquals("a b", smol.decode(smol.encode("<|im_start|>a<|im_end|> b", false, true)));
        assertEquals("<|im_start|>a<|im_end|> b", smol.decode(smol.encode("<|im_start|>a<|im_end|> b", false, true), true));
    }

    @Test
    void streamingDecoderHoldsBackPartialUtf8() {
        Tokenizer stories = TokenizerCache.get(SharedFiles.STORIES);
        int[] ids = stories.encode("a🦙b", false, false); // the emoji has no piece: four byte tokens
        StreamingDecoder decoder = stories.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        int emptyReturns = 0;
        for (int id : ids) {
            String piece = decoder.accept(id);
            if (piece.isEmpty()) emptyReturns++;
            assertTrue(piece.chars().noneMatch(c -> c == 0xFFFD), "no replacement character mid-stream");
            out.append(piece);
        }
        out.append(decoder.finish());
        assertEquals(3, emptyReturns, "the first three bytes of the emoji wait for the fourth");
        assertEquals(" a🦙b", out.toString());
    }

    @Test
    void completePrefixLengthStopsBeforeUnfinishedSequences() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
        assertEquals(0, StreamingDecoder.completePrefixLength(new byte[] {euro[0], euro[1]}));
        assertEquals(3, StreamingDecoder.completePrefixLength(euro));
        assertEquals(1, StreamingDecoder.completePrefixLength(new byte[] {'a', euro[0]}));
        assertEquals(2, StreamingDecoder.completePrefixLength(new byte[] {'a', (byte) 0x80}), "a stray continuation byte is not held");
    }

    @Test
    void unknownPreTokenizerIsRefusedByName() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.forGgufName("tekken"));
        assertTrue(error.getMessage().contains("'tekken'") && error.getMessage().contains("smollm"), error.getMessage());
        Vocabulary gpt2 = SharedFiles.vocabulary(SharedFiles.GPT2_VOCAB);
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.create(SharedFiles.withPreTokenizer(gpt2, "no-such-pre")));
    }

    @Test
    void everyFamilyNameIsKnown() {
        for (String name : new String[] {"llama-bpe", "gpt-2", "starcoder", "smollm", "qwen2", "deepseek-llm",
                "deepseek-coder", "falcon", "refact", "default"}) {
            assertEquals(name, PreTokenizer.forGgufName(name).ggufName());
        }
    }

    @Test
    void inconsistentVocabulariesAreRejectedWithTheField() {
        String[] tokens = {"a", "b"};
        IllegalArgumentException model = assertThrows(IllegalArgumentException.class, () -> new Vocabulary(
                "bert", "default", tokens, null, null, null, -1, -1, -1, -1, false, false, false, Optional.empty()));
        assertTrue(model.getMessage().contains("'bert'"), model.getMessage());
        IllegalArgumentException scores = assertThrows(IllegalArgumentException.class, () -> new Vocabulary(
                "llama", "default", tokens, new float[3], null, null, -1, -1, -1, -1, false, false, true, Optional.empty()));
        assertTrue(scores.getMessage().contains("tokenizer.ggml.scores"), scores.getMessage());
        IllegalArgumentException bos = assertThrows(IllegalArgumentException.class, () -> new Vocabulary(
                "gpt2", "gpt-2", tokens, null, null, new String[0], 7, -1, -1, -1, false, false, false, Optional.empty()));
        assertTrue(bos.getMessage().contains("bos_token_id = 7"), bos.getMessage());
        IllegalArgumentException merge = assertThrows(IllegalArgumentException.class, () -> Tokenizer.create(new Vocabulary(
                "gpt2", "gpt-2", tokens, null, null, new String[] {"ab"}, -1, -1, -1, -1, false, false, false, Optional.empty())));
        assertTrue(merge.getMessage().contains("merges[0]"), merge.getMessage());
    }

    @Test
    void idsOutsideTheVocabularyAreRejected() {
        Tokenizer tokenizer = Tokenizer.create(tinySentencePiece());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {5000}));
        assertTrue(error.getMessage().contains("5000"), error.getMessage());
    }
}
