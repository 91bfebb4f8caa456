package ai.aether.bench;

/**
 * Which blocks a method keeps for one snapshot: one set per KV head, shared by the query heads
 * of its GQA group (each kept block is read once for the group).
 */
public final class BlockSelection {

    private final boolean[][] kept;  // [kvHeads][blocks]

    public BlockSelection(int kvHeads, int blocks) {
        this.kept = new boolean[kvHeads][blocks];
    }

    public void keep(int kvHead, int block) {
        kept[kvHead][block] = true;
    }

    public boolean isKept(int kvHead, int block) {
        return kept[kvHead][block];
    }

    public int kvHeads() {
        return kept.length;
    }

    public int blocks() {
        return kept[0].length;
    }

    /** Kept blocks of one KV head. */
    public int keptCount(int kvHead) {
        int n = 0;
        for (boolean k : kept[kvHead]) if (k) n++;
        return n;
    }

    /** Kept blocks over all KV heads. */
    public int keptTotal() {
        int n = 0;
        for (int h = 0; h < kept.length; h++) n += keptCount(h);
        return n;
    }

    /** Ascending kept block indices of one KV head. */
    public int[] keptBlocks(int kvHead) {
        int[] out = new int[keptCount(kvHead)];
        int n = 0;
        for (int b = 0; b < kept[kvHead].length; b++) if (kept[kvHead][b]) out[n++] = b;
        return out;
    }

    /** Kept count per KV head (the budget other methods get for a same-budget comparison). */
    public int[] keptCounts() {
        int[] out = new int[kept.length];
        for (int h = 0; h < kept.length; h++) out[h] = keptCount(h);
        return out;
    }
}
