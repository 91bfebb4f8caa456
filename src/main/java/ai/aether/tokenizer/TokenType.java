package ai.aether.tokenizer;

/**
 * Token types as stored in {@code tokenizer.ggml.token_type} (llama.cpp's {@code llama_token_type}
 * numbering). Types decide how a token is matched in text and how it decodes.
 */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** The type for a GGUF code; codes outside 0..6 read as {@link #UNDEFINED}, as in llama.cpp. */
    public static TokenType ofCode(int code) {
        TokenType[] all = values();
        return code >= 0 && code < all.length ? all[code] : UNDEFINED;
    }
}
