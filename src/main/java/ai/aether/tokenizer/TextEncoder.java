package ai.aether.tokenizer;

/** Turns a stretch of plain text (no special tokens in it) into token ids. */
interface TextEncoder {
    /**
     * @param afterSpecialOrStart whether the text starts the input or follows a special token
     *                            (SentencePiece adds its space prefix only then)
     */
    void encode(String text, boolean afterSpecialOrStart, IntList out);
}
