package ai.aether.tokenizer;

import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufFormatException;

import java.util.Arrays;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a tokenizer needs from a model file, as plain values.
 *
 * @param model          {@code tokenizer.ggml.model}: {@code "llama"} (SentencePiece) or {@code "gpt2"} (byte-level BPE)
 * @param preTokenizer   {@code tokenizer.ggml.pre} ({@code "default"} when absent)
 * @param tokens         [vocabSize] token texts
 * @param scores         [vocabSize] merge scores (SentencePiece), zeros when absent
 * @param tokenTypes     [vocabSize] {@link TokenType} codes, NORMAL when absent
 * @param merges         [mergeCount] "left right" pairs in rank order (BPE), empty for SentencePiece
 * @param bosId          beginning-of-sequence id, -1 when none
 * @param eosId          end-of-sequence id, -1 when none
 * @param unknownId      unknown-token id, -1 when none
 * @param paddingId      padding id, -1 when none
 * @param addBos         whether encoding with special tokens prepends BOS
 * @param addEos         whether encoding with special tokens appends EOS
 * @param addSpacePrefix SentencePiece: prepend a space to text (llama's "dummy prefix")
 * @param chatTemplate   {@code tokenizer.chat_template}, empty when the model has none
 */
public record Vocabulary(String model, String preTokenizer, String[] tokens, float[] scores, int[] tokenTypes,
                         String[] merges, int bosId, int eosId, int unknownId, int paddingId,
                         boolean addBos, boolean addEos, boolean addSpacePrefix, Optional<String> chatTemplate) {

    public static final String MODEL_SENTENCEPIECE = "llama";
    public static final String MODEL_BYTE_LEVEL_BPE = "gpt2";

    public Vocabulary {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(preTokenizer, "preTokenizer");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(chatTemplate, "chatTemplate");
        if (!model.equals(MODEL_SENTENCEPIECE) && !model.equals(MODEL_BYTE_LEVEL_BPE)) {
            throw new IllegalArgumentException("tokenizer.ggml.model '" + model
                    + "' is not supported (supported: 'llama' SentencePiece, 'gpt2' byte-level BPE)");
        }
        if (tokens.length == 0) throw new IllegalArgumentException("tokenizer.ggml.tokens is empty");
        if (scores == null) scores = new float[tokens.length];
        if (tokenTypes == null) {
            tokenTypes = new int[tokens.length];
            Arrays.fill(tokenTypes, TokenType.NORMAL.ordinal());
        }
        if (merges == null) merges = new String[0];
        if (scores.length != tokens.length) {
            throw new IllegalArgumentException("tokenizer.ggml.scores has " + scores.length
                    + " entries but tokenizer.ggml.tokens has " + tokens.length);
        }
        if (tokenTypes.length != tokens.length) {
            throw new IllegalArgumentException("tokenizer.ggml.token_type has " + tokenTypes.length
                    + " entries but tokenizer.ggml.tokens has " + tokens.length);
        }
        checkId("tokenizer.ggml.bos_token_id", bosId, tokens.length);
        checkId("tokenizer.ggml.eos_token_id", eosId, tokens.length);
        checkId("tokenizer.ggml.unknown_token_id", unknownId, tokens.length);
        checkId("tokenizer.ggml.padding_token_id", paddingId, tokens.length);
        if (addBos && bosId < 0) throw new IllegalArgumentException("tokenizer.ggml.add_bos_token is true but there is no BOS id");
        if (addEos && eosId < 0) throw new IllegalArgumentException("tokenizer.ggml.add_eos_token is true but there is no EOS id");
    }

    private static void checkId(String key, int id, int vocabSize) {
        if (id < -1 || id >= vocabSize) {
            throw new IllegalArgumentException(key + " = " + id + " is outside the vocabulary [0, " + vocabSize + ")");
        }
    }

    /** Pre-tokenizer names for which llama.cpp adds BOS when the file does not say. */
    private static final Set<String> BOS_BY_DEFAULT_PRE = Set.of("llama3", "llama-v3", "llama-bpe", "falcon3", "tekken", "chameleon");

    /**
     * Reads the tokenizer metadata of a GGUF file. Defaults for absent keys follow llama.cpp:
     * SentencePiece adds BOS and a space prefix, byte-level BPE adds neither (Llama 3 adds BOS);
     * special ids outside the vocabulary (such as 4294967295 for "none") read as absent.
     *
     * @throws GgufFormatException when a tokenizer key is missing or has the wrong type
     * @throws IllegalArgumentException when the values are inconsistent (array lengths, unknown model)
     */
    public static Vocabulary fromGguf(GgufFile gguf) throws GgufFormatException {
        String model = gguf.getString("tokenizer.ggml.model");
        String pre = gguf.findString("tokenizer.ggml.pre").orElse("default");
        String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
        float[] scores = gguf.findFloatArray("tokenizer.ggml.scores").orElse(null);
        int[] types = gguf.findIntArray("tokenizer.ggml.token_type").orElse(null);
        String[] merges = gguf.findStringArray("tokenizer.ggml.merges").orElse(null);
        if (model.equals(MODEL_BYTE_LEVEL_BPE) && merges == null) {
            throw new GgufFormatException(gguf.path(), "metadata 'tokenizer.ggml.merges'", "missing (tokenizer.ggml.model 'gpt2' needs merges)");
        }
        boolean sentencePiece = model.equals(MODEL_SENTENCEPIECE);
        boolean addBos = gguf.findBoolean("tokenizer.ggml.add_bos_token").orElse(sentencePiece || BOS_BY_DEFAULT_PRE.contains(pre));
        boolean addEos = gguf.findBoolean("tokenizer.ggml.add_eos_token").orElse(false);
        boolean addSpacePrefix = gguf.findBoolean("tokenizer.ggml.add_space_prefix").orElse(sentencePiece);
        int bos = optionalId(gguf, "tokenizer.ggml.bos_token_id", tokens.length);
        int eos = optionalId(gguf, "tokenizer.ggml.eos_token_id", tokens.length);
        try {
            return new Vocabulary(model, pre, tokens, scores, types, merges, bos, eos,
                    optionalId(gguf, "tokenizer.ggml.unknown_token_id", tokens.length),
                    optionalId(gguf, "tokenizer.ggml.padding_token_id", tokens.length),
                    addBos && bos >= 0, addEos && eos >= 0, addSpacePrefix,
                    gguf.findString("tokenizer.chat_template"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(gguf.path() + ": " + e.getMessage(), e);
        }
    }

    private static int optionalId(GgufFile gguf, String key, int vocabSize) throws GgufFormatException {
        long id = gguf.findLong(key).orElse(-1);
        return id >= 0 && id < vocabSize ? (int) id : -1;
    }

    public int size() {
        return tokens.length;
    }

    public TokenType type(int id) {
        return TokenType.ofCode(tokenTypes[id]);
    }

    public boolean isSentencePiece() {
        return model.equals(MODEL_SENTENCEPIECE);
    }
}
