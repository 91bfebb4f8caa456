package ai.aether.engine;

import ai.aether.gguf.GgufFile;
import ai.aether.tokenizer.Tokenizer;
import ai.aether.tokenizer.Vocabulary;

import java.io.IOException;

/** Builds a model's tokenizer from the {@code tokenizer.*} entries of its GGUF metadata. */
final class TokenizerLoader {
    private TokenizerLoader() {}

    static Tokenizer fromGguf(GgufFile file) throws IOException {
        String model = file.getString("tokenizer.ggml.model");
        boolean sentencePiece = model.equals(Vocabulary.MODEL_SENTENCEPIECE);
        Vocabulary vocabulary = new Vocabulary(model,
                file.findString("tokenizer.ggml.pre").orElse("default"),
                file.getStringArray("tokenizer.ggml.tokens"),
                file.findFloatArray("tokenizer.ggml.scores").orElse(null),
                file.findIntArray("tokenizer.ggml.token_type").orElse(null),
                file.findStringArray("tokenizer.ggml.merges").orElse(null),
                tokenId(file, "tokenizer.ggml.bos_token_id"),
                tokenId(file, "tokenizer.ggml.eos_token_id"),
                tokenId(file, "tokenizer.ggml.unknown_token_id"),
                tokenId(file, "tokenizer.ggml.padding_token_id"),
                file.findBoolean("tokenizer.ggml.add_bos_token").orElse(sentencePiece),
                file.findBoolean("tokenizer.ggml.add_eos_token").orElse(false),
                file.findBoolean("tokenizer.ggml.add_space_prefix").orElse(sentencePiece),
                file.findString("tokenizer.chat_template"));
        return Tokenizer.create(vocabulary);
    }

    /** A special-token id, -1 when absent; uint32 0xFFFFFFFF is how some writers spell "none". */
    private static int tokenId(GgufFile file, String key) throws IOException {
        long id = file.findLong(key).orElse(-1);
        return id == 0xFFFFFFFFL ? -1 : Math.toIntExact(id);
    }
}
