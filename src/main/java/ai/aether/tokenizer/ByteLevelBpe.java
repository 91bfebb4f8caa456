package ai.aether.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE (the {@code gpt2} model): the pre-tokenizer splits text into words, each word's
 * UTF-8 bytes become byte-level characters, and merges apply lowest rank first, leftmost first on
 * ties, until none applies. Merging uses a linked list of symbols and a heap of candidate pairs,
 * so a word of n bytes costs O(n log n).
 */
final class ByteLevelBpe implements TextEncoder {
    private static final int WORD_CACHE_LIMIT = 1 << 16;

    private final Map<String, Integer> idsByToken;
    private final Map<Long, Long> mergesByPair; // (leftId << 32 | rightId) -> (rank << 32 | mergedId)
    private final PreTokenizer preTokenizer;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

    ByteLevelBpe(Vocabulary vocabulary, Map<String, Integer> idsByToken) {
        this.idsByToken = idsByToken;
        this.preTokenizer = PreTokenizer.forGgufName(vocabulary.preTokenizer());
        String[] merges = vocabulary.merges();
        this.mergesByPair = new HashMap<>(merges.length * 2);
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                throw new IllegalArgumentException("tokenizer.ggml.merges[" + rank + "] = '" + merge + "' is not two tokens separated by a space");
            }
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            Integer leftId = idsByToken.get(left);
            Integer rightId = idsByToken.get(right);
            Integer mergedId = idsByToken.get(left + right);
            if (leftId == null || rightId == null || mergedId == null) continue; // can never fire on this vocabulary
            mergesByPair.putIfAbsent(pairKey(leftId, rightId), ((long) rank << 32) | mergedId);
        }
    }

    private static long pairKey(int leftId, int rightId) {
        return ((long) leftId << 32) | (rightId & 0xFFFFFFFFL);
    }

    @Override
    public void encode(String text, boolean afterSpecialOrStart, IntList out) {
        List<String> words = preTokenizer.split(text); // spelt in byte-level characters
        LongMinHeap heap = new LongMinHeap();
        for (String word : words) {
            int[] ids = wordCache.get(word);
            if (ids == null) {
                ids = encodeWord(word, heap);
                if (wordCache.size() >= WORD_CACHE_LIMIT) wordCache.clear();
                wordCache.put(word, ids);
            }
            out.addAll(ids);
        }
    }

    private int[] encodeWord(String spelled, LongMinHeap heap) {
        if (preTokenizer.ignoresMerges()) {
            Integer whole = idsByToken.get(spelled);
            if (whole != null) return new int[] {whole};
        }
        int n = spelled.length();
        int[] ids = new int[n];          // [n] current token id of the symbol starting at each position
        int[] next = new int[n];         // [n] position of the next live symbol, -1 at the end
        int[] prev = new int[n];         // [n] position of the previous live symbol, -1 at the start
        boolean[] dead = new boolean[n]; // [n] merged into its left neighbour
        for (int i = 0; i < n; i++) {
            Integer id = idsByToken.get(String.valueOf(spelled.charAt(i)));
            ids[i] = id == null ? -1 : id;
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        heap.clear();
        for (int i = 0; i + 1 < n; i++) pushPair(heap, ids, i, i + 1);
        while (!heap.isEmpty()) {
            long entry = heap.pop();
            int left = (int) (entry & 0xFFFFFFFFL);
            int rank = (int) (entry >>> 32);
            int right = next[left];
            if (dead[left] || right < 0) continue;
            Long merge = mergesByPair.get(pairKey(ids[left], ids[right]));
            if (merge == null || (int) (merge >>> 32) != rank) continue; // stale: a neighbour changed since
            ids[left] = (int) (merge & 0xFFFFFFFFL);
            dead[right] = true;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) pushPair(heap, ids, prev[left], left);
            if (next[left] >= 0) pushPair(heap, ids, left, next[left]);
        }
        IntList result = new IntList();
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            if (ids[i] >= 0) result.add(ids[i]); // a byte the vocabulary lacks is dropped, as llama.cpp does
        }
        return result.toArray();
    }

    private void pushPair(LongMinHeap heap, int[] ids, int left, int right) {
        if (ids[left] < 0 || ids[right] < 0) return;
        Long merge = mergesByPair.get(pairKey(ids[left], ids[right]));
        if (merge != null) heap.push((merge & 0xFFFFFFFF00000000L) | left);
    }
}
