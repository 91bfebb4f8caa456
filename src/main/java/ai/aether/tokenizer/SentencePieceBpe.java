package ai.aether.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE (the {@code llama} model), as llama.cpp's {@code llm_tokenizer_spm} and
 * sentencepiece's BPE encoder do it: spaces become U+2581, a space is prefixed to text that starts
 * the input or follows a special token, then adjacent symbols whose concatenation is a token merge,
 * highest score first, leftmost first on ties. A character no token covers falls back to its UTF-8
 * bytes as {@code <0xXX>} tokens, or to the unknown token when the vocabulary has no byte tokens.
 */
final class SentencePieceBpe implements TextEncoder {
    static final char SPACE_MARK = '\u2581';

    private final Map<String, Integer> idsByToken;
    private final float[] scores;
    private final int[] byteTokenIds = new int[256]; // [256] id of <0xXX>, -1 when absent
    private final int unknownId;
    private final boolean addSpacePrefix;

    SentencePieceBpe(Vocabulary vocabulary, Map<String, Integer> idsByToken) {
        this.idsByToken = idsByToken;
        this.scores = vocabulary.scores();
        this.unknownId = vocabulary.unknownId();
        this.addSpacePrefix = vocabulary.addSpacePrefix();
        for (int b = 0; b < 256; b++) {
            Integer id = idsByToken.get(String.format("<0x%02X>", b));
            byteTokenIds[b] = id == null ? -1 : id;
        }
    }

    private record Bigram(float score, int left, int length) {
    }

    @Override
    public void encode(String raw, boolean afterSpecialOrStart, IntList out) {
        String text = ((addSpacePrefix && afterSpecialOrStart) ? " " + raw : raw).replace(' ', SPACE_MARK);
        int n = text.length();
        if (n == 0) return;
        // Symbols are code points; each is identified by the char index it starts at.
        int[] length = new int[n]; // [n] chars covered by the symbol starting here, 0 when merged away
        int[] next = new int[n];   // [n] start of the next symbol, -1 at the end
        int[] prev = new int[n];   // [n] start of the previous symbol, -1 at the start
        int last = -1;
        for (int i = 0; i < n; ) {
            int width = Character.charCount(text.codePointAt(i));
            length[i] = width;
            prev[i] = last;
            if (last >= 0) next[last] = i;
            last = i;
            i += width;
        }
        next[last] = -1;

        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; next[i] >= 0; i = next[i]) offer(queue, text, length, i, next[i]);
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = left + length[left];
            // stale when either side was merged since the pair was offered
            if (length[left] == 0 || right >= n || length[right] == 0 || length[left] + length[right] != bigram.length) continue;
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[left] >= 0) prev[next[left]] = left;
            if (prev[left] >= 0) offer(queue, text, length, prev[left], left);
            if (next[left] >= 0) offer(queue, text, length, left, next[left]);
        }
        for (int i = 0; i >= 0; i = next[i]) emit(text.substring(i, i + length[i]), out);
    }

    private void offer(PriorityQueue<Bigram> queue, String text, int[] length, int left, int right) {
        Integer id = idsByToken.get(text.substring(left, right + length[right]));
        if (id != null) queue.add(new Bigram(scores[id], left, length[left] + length[right]));
    }

    private void emit(String symbol, IntList out) {
        Integer id = idsByToken.get(symbol);
        if (id != null) {
            out.add(id);
            return;
        }
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int byteId = byteTokenIds[b & 0xFF];
            if (byteId >= 0) out.add(byteId);
            else if (unknownId >= 0) out.add(unknownId);
        }
    }
}
