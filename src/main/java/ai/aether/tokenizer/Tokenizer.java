package ai.aether.tokenizer;

import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's tokenizer: text to token ids and back, built from a {@link Vocabulary}.
 * <pre>{@code
 * Tokenizer tokenizer = Tokenizer.fromGguf(gguf);                      // SmolLM2-135M-Instruct
 * int[] ids = tokenizer.encode("Hello world", true, false);           // [19556, 905]
 * String text = tokenizer.decode(ids);                                 // "Hello world"
 * }</pre>
 * Behaviour follows llama.cpp where it and HF transformers differ:
 * <ul>
 *   <li>SentencePiece adds its space prefix to text at the start and after every special token
 *       (as sentencepiece and HF's {@code Prepend} normalizer do), also when the text already starts
 *       with a space; HF's Llama {@code Metaspace} leaves such text alone.</li>
 *   <li>User-defined tokens are always matched as one token; control tokens only with
 *       {@code parseSpecial} (HF matches every added token unless told otherwise).</li>
 *   <li>Per-token lstrip/rstrip flags are not in GGUF files and are not applied.</li>
 *   <li>Decoding returns the exact bytes: no {@code clean_up_tokenization_spaces}.</li>
 * </ul>
 * Safe for concurrent use.
 */
public final class Tokenizer {
    /** Texts llama.cpp treats as end of generation besides EOS (end of turn, end of message). */
    private static final Set<String> END_OF_GENERATION_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
            "<｜end▁of▁sentence｜>", "<|eom_id|>");

    private final Vocabulary vocabulary;
    private final TextEncoder textEncoder;
    private final SpecialTokenMatcher userDefinedMatcher;  // always applied
    private final SpecialTokenMatcher allSpecialMatcher;   // with parseSpecial
    private final byte[][] pieces;                         // [vocabSize] decoded bytes, control tokens empty
    private final byte[][] specialPieces;                  // [vocabSize] decoded bytes, control tokens as their text
    private final Set<Integer> endOfGenerationIds;

    private Tokenizer(Vocabulary vocabulary) {
        this.vocabulary = vocabulary;
        String[] tokens = vocabulary.tokens();
        Map<String, Integer> idsByToken = new HashMap<>(tokens.length * 2);
        for (int id = 0; id < tokens.length; id++) idsByToken.put(tokens[id], id); // a repeated text keeps its last id, as llama.cpp
        this.textEncoder = vocabulary.isSentencePiece()
                ? new SentencePieceBpe(vocabulary, idsByToken)
                : new ByteLevelBpe(vocabulary, idsByToken);

        List<Integer> userDefined = new ArrayList<>();
        List<Integer> special = new ArrayList<>();
        Set<Integer> endOfGeneration = new LinkedHashSet<>();
        if (vocabulary.eosId() >= 0) endOfGeneration.add(vocabulary.eosId());
        this.pieces = new byte[tokens.length][];
        this.specialPieces = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            TokenType type = vocabulary.type(id);
            switch (type) {
                case USER_DEFINED -> {
                    userDefined.add(id);
                    special.add(id);
                }
                case CONTROL, UNKNOWN -> special.add(id);
                default -> { }
            }
            if (END_OF_GENERATION_TEXTS.contains(tokens[id])) endOfGeneration.add(id);
            pieces[id] = piece(tokens[id], type, false);
            specialPieces[id] = piece(tokens[id], type, true);
        }
        this.userDefinedMatcher = new SpecialTokenMatcher(tokens, userDefined);
        this.allSpecialMatcher = new SpecialTokenMatcher(tokens, special);
        this.endOfGenerationIds = Set.copyOf(endOfGeneration);
    }

    /**
     * The tokenizer for {@code vocabulary}.
     *
     * @throws IllegalArgumentException when the pre-tokenizer is unknown or the merges are malformed
     */
    public static Tokenizer create(Vocabulary vocabulary) {
        return new Tokenizer(vocabulary);
    }

    /** The tokenizer a GGUF file describes (works on vocab-only files). */
    public static Tokenizer fromGguf(GgufFile gguf) throws GgufFormatException {
        return new Tokenizer(Vocabulary.fromGguf(gguf));
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public int vocabularySize() {
        return vocabulary.size();
    }

    /** Beginning-of-sequence id, -1 when the model has none. */
    public int bosId() {
        return vocabulary.bosId();
    }

    /** End-of-sequence id, -1 when the model has none. */
    public int eosId() {
        return vocabulary.eosId();
    }

    /** EOS plus the end-of-turn tokens the vocabulary has ({@code <|im_end|>}, {@code <|eot_id|>}, ...). */
    public Set<Integer> endOfGenerationIds() {
        return endOfGenerationIds;
    }

    public boolean isEndOfGeneration(int id) {
        return endOfGenerationIds.contains(id);
    }

    /** The token's text as the vocabulary spells it (byte-level or U+2581 spelling included). */
    public String tokenText(int id) {
        checkId(id);
        return vocabulary.tokens()[id];
    }

    /**
     * Token ids for {@code text}.
     *
     * @param addSpecial   add BOS and/or EOS as the model's {@code add_bos_token}/{@code add_eos_token} say
     * @param parseSpecial match control-token texts such as {@code <|im_start|>} as single tokens;
     *                     user-defined tokens are matched either way
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList ids = new IntList();
        if (addSpecial && vocabulary.addBos()) ids.add(vocabulary.bosId());
        SpecialTokenMatcher matcher = parseSpecial ? allSpecialMatcher : userDefinedMatcher;
        if (matcher.isEmpty()) {
            if (!text.isEmpty()) textEncoder.encode(text, true, ids);
        } else {
            boolean afterSpecialOrStart = true;
            for (SpecialTokenMatcher.Piece piece : matcher.split(text)) {
                if (piece.tokenId() >= 0) {
                    ids.add(piece.tokenId());
                    afterSpecialOrStart = true;
                } else {
                    textEncoder.encode(piece.text(), afterSpecialOrStart, ids);
                    afterSpecialOrStart = false;
                }
            }
        }
        if (addSpecial && vocabulary.addEos()) ids.add(vocabulary.eosId());
        return ids.toArray();
    }

    /** Decodes ids to text, leaving out control tokens. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text. Invalid UTF-8 (a sequence cut short) becomes U+FFFD. For SentencePiece
     * models the space prefix encoding added is removed again, so {@code decode(encode(t)) == t}.
     *
     * @param renderSpecial write control tokens as their text instead of leaving them out
     */
    public String decode(int[] ids, boolean renderSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) bytes.writeBytes(tokenBytes(id, renderSpecial));
        byte[] all = bytes.toByteArray();
        int start = vocabulary.isSentencePiece() && vocabulary.addSpacePrefix() && all.length > 0 && all[0] == ' ' ? 1 : 0;
        return new String(all, start, all.length - start, StandardCharsets.UTF_8);
    }

    /** The bytes token {@code id} stands for; may be part of a UTF-8 sequence. */
    public byte[] tokenBytes(int id, boolean renderSpecial) {
        checkId(id);
        return (renderSpecial ? specialPieces[id] : pieces[id]).clone();
    }

    byte[] tokenBytesShared(int id, boolean renderSpecial) {
        checkId(id);
        return renderSpecial ? specialPieces[id] : pieces[id];
    }

    /** A decoder for token-by-token output that holds back incomplete UTF-8 sequences. */
    public StreamingDecoder streamingDecoder(boolean renderSpecial) {
        return new StreamingDecoder(this, renderSpecial);
    }

    /** Whether the GGUF carries its own {@code tokenizer.chat_template} (otherwise {@link #chatTemplate()} falls back to ChatML). */
    public boolean hasChatTemplate() {
        return vocabulary.chatTemplate().isPresent();
    }

    /** The model's chat template, or ChatML when it has none. */
    public ChatTemplate chatTemplate() {
        String bos = vocabulary.bosId() >= 0 ? vocabulary.tokens()[vocabulary.bosId()] : "";
        String eos = vocabulary.eosId() >= 0 ? vocabulary.tokens()[vocabulary.eosId()] : "";
        return new ChatTemplate(vocabulary.chatTemplate().orElse(ChatTemplate.CHATML), bos, eos);
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocabulary.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocabulary.size() + ")");
        }
    }

    private byte[] piece(String text, TokenType type, boolean renderSpecial) {
        return switch (type) {
            case CONTROL -> renderSpecial ? utf8(text) : new byte[0];
            case UNKNOWN -> renderSpecial ? utf8(text) : utf8("\u2585"); // llama.cpp's stand-in for unknown text
            case USER_DEFINED -> utf8(text);
            case BYTE -> vocabulary.isSentencePiece() ? new byte[] {(byte) parseByteToken(text)} : byteLevelBytes(text);
            default -> vocabulary.isSentencePiece() ? utf8(text.replace(SentencePieceBpe.SPACE_MARK, ' ')) : byteLevelBytes(text);
        };
    }

    private static int parseByteToken(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return Integer.parseInt(text.substring(3, 5), 16);
            } catch (NumberFormatException ignored) {
                // reported below
            }
        }
        throw new IllegalArgumentException("byte token '" + text + "' is not of the form <0xXX>");
    }

    private static byte[] byteLevelBytes(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            int b = ByteLevel.byteOf(text.charAt(i));
            if (b >= 0) out.write(b);
            else out.writeBytes(utf8(String.valueOf(text.charAt(i)))); // not a byte-level character: keep it as text
        }
        return out.toByteArray();
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
