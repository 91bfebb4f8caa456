package ai.aether.bench;

import java.util.SplittableRandom;

/**
 * Block selections that are not AETHER scores, each keeping exactly {@code budget[h]} blocks of
 * KV head h (so they compare with a method at the same block budget).
 */
public final class Baselines {

    private Baselines() {}

    /**
     * Oracle: per KV head the {@code budget} blocks with the largest true softmax mass summed over the
     * group's query heads (which maximises the group's mean mass recall for that many blocks).
     *
     * @param refs {@code [queryHeads]} float64 references of one snapshot
     */
    public static BlockSelection oracle(HeadReference[] refs, int kvHeads, int[] budget) {
        int group = refs.length / kvHeads, blocks = refs[0].blockCount();
        BlockSelection out = new BlockSelection(kvHeads, blocks);
        for (int h = 0; h < kvHeads; h++) {
            double[] mass = new double[blocks];
            for (int j = 0; j < group; j++) {
                for (int b = 0; b < blocks; b++) mass[b] += refs[h * group + j].blockMass(b);
            }
            boolean[] top = QualityMetrics.topByMass(mass, Math.min(budget[h], blocks));
            for (int b = 0; b < blocks; b++) if (top[b]) out.keep(h, b);
        }
        return out;
    }

    /** StreamingLLM at the budget: the first {@code sinkBlocks} blocks, then the newest ones. */
    public static BlockSelection sinkWindow(int kvHeads, int blocks, int sinkBlocks, int[] budget) {
        BlockSelection out = new BlockSelection(kvHeads, blocks);
        for (int h = 0; h < kvHeads; h++) {
            int k = Math.min(budget[h], blocks);
            int sinks = Math.min(sinkBlocks, k);
            for (int b = 0; b < sinks; b++) out.keep(h, b);
            for (int b = blocks - 1, n = sinks; n < k; b--) {
                if (!out.isKept(h, b)) {
                    out.keep(h, b);
                    n++;
                }
            }
        }
        return out;
    }

    /**
     * The sink and local-window blocks (as AETHER always keeps them), then uniformly random
     * other blocks up to the budget. Deterministic for a seed.
     */
    public static BlockSelection random(int kvHeads, int blocks, int sinkBlocks, int localWindow, int[] budget, long seed) {
        BlockSelection out = new BlockSelection(kvHeads, blocks);
        SplittableRandom random = new SplittableRandom(seed);
        for (int h = 0; h < kvHeads; h++) {
            int k = Math.min(budget[h], blocks), n = 0;
            for (int b = 0; b < blocks && n < k; b++) {
                if (b < sinkBlocks || b >= blocks - Math.max(localWindow, 1)) {
                    out.keep(h, b);
                    n++;
                }
            }
            int[] others = new int[blocks];
            int m = 0;
            for (int b = 0; b < blocks; b++) if (!out.isKept(h, b)) others[m++] = b;
            for (int i = 0; n < k && i < m; i++, n++) {  // partial Fisher-Yates
                int j = i + random.nextInt(m - i);
                int pick = others[j];
                others[j] = others[i];
                others[i] = pick;
                out.keep(h, pick);
            }
        }
        return out;
    }
}
