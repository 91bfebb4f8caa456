package ai.aether.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Builds each shared file's tokenizer once per test run. */
final class TokenizerCache {
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private TokenizerCache() {
    }

    static Tokenizer get(String relative) {
        SharedFiles.require(relative);
        return TOKENIZERS.computeIfAbsent(relative, SharedFiles::tokenizer);
    }
}
