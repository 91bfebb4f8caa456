package ai.aether.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns generated tokens into text one at a time. A token may end inside a UTF-8 sequence (byte
 * fallback, or a byte-level token holding half an emoji); those bytes are held back until the
 * sequence completes, so each returned string is valid text and the concatenation of all of them
 * equals decoding the whole sequence at once. Not thread-safe: one per generation.
 * <pre>{@code
 * StreamingDecoder decoder = tokenizer.streamingDecoder(false);
 * for (int id : generated) System.out.print(decoder.accept(id));
 * System.out.print(decoder.finish());
 * }</pre>
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean renderSpecial;
    private byte[] pending = new byte[0]; // [0..3] bytes of an unfinished UTF-8 sequence

    StreamingDecoder(Tokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
    }

    /** The text that token {@code id} completes; empty while a UTF-8 sequence is unfinished. */
    public String accept(int id) {
        byte[] piece = tokenizer.tokenBytesShared(id, renderSpecial);
        byte[] bytes = Arrays.copyOf(pending, pending.length + piece.length);
        System.arraycopy(piece, 0, bytes, pending.length, piece.length);
        int complete = completePrefixLength(bytes);
        pending = Arrays.copyOfRange(bytes, complete, bytes.length);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Whatever is held back, as text (an unfinished sequence becomes U+FFFD); resets the decoder. */
    public String finish() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return rest;
    }

    /** Length of the longest prefix that does not end inside a UTF-8 sequence that may still complete. */
    static int completePrefixLength(byte[] bytes) {
        int n = bytes.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = bytes[n - back] & 0xFF;
            if ((b & 0xC0) == 0x80) continue; // continuation byte: look further back for the lead
            int needed = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return needed > back && b >= 0xC2 && b <= 0xF4 ? n - back : n;
        }
        return n; // only continuation bytes at the end: invalid either way, let the decoder replace them
    }
}
