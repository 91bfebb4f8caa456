package ai.aether.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds special-token texts in input: at each position the longest token text that starts there
 * wins, scanning left to right (HF tokenizers' leftmost-longest added-token matching).
 */
final class SpecialTokenMatcher {
    /** A piece of the input: either plain text ({@code tokenId < 0}) or one special token. */
    record Piece(String text, int tokenId) {
    }

    private final Map<Character, List<Integer>> candidatesByFirstChar = new HashMap<>(); // ids, longest text first
    private final String[] tokens;

    SpecialTokenMatcher(String[] tokens, List<Integer> ids) {
        this.tokens = tokens;
        List<Integer> sorted = new ArrayList<>(ids);
        sorted.removeIf(id -> tokens[id].isEmpty());
        sorted.sort(Comparator.comparingInt((Integer id) -> tokens[id].length()).reversed());
        for (int id : sorted) candidatesByFirstChar.computeIfAbsent(tokens[id].charAt(0), c -> new ArrayList<>()).add(id);
    }

    boolean isEmpty() {
        return candidatesByFirstChar.isEmpty();
    }

    List<Piece> split(String text) {
        List<Piece> pieces = new ArrayList<>();
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            int match = matchAt(text, i);
            if (match < 0) {
                i++;
                continue;
            }
            if (i > plainStart) pieces.add(new Piece(text.substring(plainStart, i), -1));
            pieces.add(new Piece(tokens[match], match));
            i += tokens[match].length();
            plainStart = i;
        }
        if (plainStart < text.length()) pieces.add(new Piece(text.substring(plainStart), -1));
        return pieces;
    }

    private int matchAt(String text, int position) {
        List<Integer> candidates = candidatesByFirstChar.get(text.charAt(position));
        if (candidates == null) return -1;
        for (int id : candidates) if (text.startsWith(tokens[id], position)) return id;
        return -1;
    }
}
