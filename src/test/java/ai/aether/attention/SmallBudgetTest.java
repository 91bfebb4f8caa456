package ai.aether.attention;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * TARGET_SPARSITY at budgets of a few blocks (1K tokens at 90%: 2 of 16 blocks): the forced sink and
 * window give way so that the radar still chooses, as a pass-key needs. A middle block whose keys
 * point along the query must be read at every budget.
 */
class SmallBudgetTest {

    private static final int BLOCK = 64, BLOCKS = 16, DIM = 32, NEEDLE = 7;

    private final Tensor query, keys;

    SmallBudgetTest() {
        Random r = new Random(3);
        float[] q = new float[DIM], k = new float[BLOCKS * BLOCK * DIM];
        for (int d = 0; d < DIM; d++) q[d] = (float) r.nextGaussian();
        for (int i = 0; i < k.length; i++) k[i] = (float) (0.3 * r.nextGaussian());
        // The needle block's keys carry the query's direction: its tokens hold nearly all attention.
        for (int t = NEEDLE * BLOCK; t < (NEEDLE + 1) * BLOCK; t++) {
            for (int d = 0; d < DIM; d++) k[t * DIM + d] += q[d];
        }
        query = Tensor.of(q, 1, 1, DIM);
        keys = Tensor.of(k, 1, 1, BLOCKS * BLOCK, DIM);
    }

    private List<Integer> kept(double targetSparsity) {
        return kept(targetSparsity, 0, keys);
    }

    private List<Integer> kept(double targetSparsity, int minKeptTokens, Tensor keys) {
        AetherConfig config = AetherConfig.builder().blockSize(BLOCK).selection(SelectionMode.TARGET_SPARSITY)
                .targetSparsity(targetSparsity).sinkBlocks(1).localWindow(4).minSeqLength(0).minKeptTokens(minKeptTokens).build();
        int blocks = keys.shape()[2] / BLOCK;
        BlockMask mask = AetherKernels.runAetherSparse(query, AetherKernels.precomputeMetadata(keys, BLOCK, false, false), config).mask();
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < blocks; i++) if (mask.kept(0, 0, i)) kept.add(i);
        return kept;
    }

    @Test
    void twoBlockBudgetReadsTheNewestAndTheRadarsChoiceNotAForcedSink() {
        // ceil(0.1 x 16) = 2 blocks: a forced sink plus the newest would leave the radar nothing.
        assertEquals(List.of(NEEDLE, BLOCKS - 1), kept(0.9));
    }

    @Test
    void threeBlockBudgetStillLeavesTheSinkToTheRadar() {
        // ceil(0.15 x 16) = 3: sink + newest would be 2 of 3, over half; the radar picks 2.
        List<Integer> kept = kept(0.85);
        assertEquals(3, kept.size(), kept.toString());
        assertEquals(true, kept.contains(NEEDLE) && kept.contains(BLOCKS - 1), kept.toString());
    }

    @Test
    void fourBlockBudgetKeepsTheSinkTheNewestAndTwoOfTheRadars() {
        // ceil(0.25 x 16) = 4: sink + window of 1 take half; the radar's 2 include the needle.
        List<Integer> kept = kept(0.75);
        assertEquals(4, kept.size(), kept.toString());
        assertEquals(List.of(0, NEEDLE, BLOCKS - 1), kept.stream().filter(i -> i == 0 || i == NEEDLE || i == BLOCKS - 1).toList(), kept.toString());
    }

    @Test
    void aFloorOfTokensKeepsShortContextsNearDense() {
        assertEquals(768, AetherConfig.defaults().minKeptTokens());
        // 16 blocks of 64 = 1,024 tokens: everything is read, whatever the target.
        assertEquals(BLOCKS, kept(0.9, 1024, keys).size());
        assertEquals(12, kept(0.9, 768, keys).size(), "the default floor: 12 of 16 blocks");
        // 40 blocks: 20% is 8 blocks, the floor 16; 1,000 tokens round up to 16 blocks as well.
        Random r = new Random(5);
        float[] k = new float[40 * BLOCK * DIM];
        for (int i = 0; i < k.length; i++) k[i] = (float) r.nextGaussian();
        Tensor longer = Tensor.of(k, 1, 1, 40 * BLOCK, DIM);
        assertEquals(16, kept(0.8, 1024, longer).size());
        assertEquals(16, kept(0.8, 1000, longer).size());
        assertEquals(8, kept(0.8, 0, longer).size());
        // Above the floor the target rules: 40 blocks at 50% keep 20.
        assertEquals(20, kept(0.5, 1024, longer).size());
    }
}
