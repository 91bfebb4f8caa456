package ai.aether.tokenizer;

/**
 * GPT-2's reversible map between bytes and printable characters: byte-level BPE vocabularies
 * spell every token in these characters, so {@code ' '} is {@code 'Ġ'} and {@code '\n'} is {@code 'Ċ'}.
 * Printable Latin-1 bytes map to themselves; the other 68 bytes map, in byte order, to U+0100 and up.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x180]; // indexed by char, -1 where no byte maps

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The UTF-8 bytes of {@code text}, each spelt as its byte-level character. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) chars[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        return new String(chars);
    }

    /** The byte a byte-level character stands for, or -1 when {@code c} is not one. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Whether every character of {@code token} is a byte-level character. */
    static boolean isSpelledInBytes(String token) {
        for (int i = 0; i < token.length(); i++) if (byteOf(token.charAt(i)) < 0) return false;
        return true;
    }
}
