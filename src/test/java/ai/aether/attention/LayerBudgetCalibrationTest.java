package ai.aether.attention;

import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Calibrated layer budgets on three layers whose needs differ by construction: one whose values are
 * all equal (any blocks give the exact output), one whose queries look for a few needle keys, one
 * with diffuse attention over random values. Checked against float64 attention computed here.
 */
class LayerBudgetCalibrationTest {
    static final int LAYERS = 3, HEADS = 2, DIM = 16, BLOCK = 8, TOKENS = 320, ROWS = 4;

    static AetherConfig config() {
        return AetherConfig.builder().blockSize(BLOCK).kvDtype(KvDtype.FP32).minSeqLength(0).selection(SelectionMode.TARGET_SPARSITY)
                .targetSparsity(0.75).sinkBlocks(1).localWindow(1).layerBudgets(LayerBudgets.CALIBRATED).build();
    }

    record Layers(SequenceKvCache sequence, float[][] keys, float[][] values, float[][] queries, int[] positions) {}

    static Layers build(AetherConfig config, long seed) {
        Random random = new Random(seed);
        SequenceKvCache sequence = AetherKvPool.forConfig(config, DIM, 0).newSequence(LAYERS, 1);
        float[][] keys = new float[LAYERS][], values = new float[LAYERS][], queries = new float[LAYERS][ROWS * HEADS * DIM];
        float[] needle = Reference.gaussian(random, DIM, 1);
        double norm = 0;
        for (float x : needle) norm += x * x;
        for (int d = 0; d < DIM; d++) needle[d] *= (float) (5 / Math.sqrt(norm));
        for (int layer = 0; layer < LAYERS; layer++) {
            keys[layer] = Reference.gaussian(random, TOKENS * DIM, 1);
            values[layer] = Reference.gaussian(random, TOKENS * DIM, 1);
            if (layer == 0) Arrays.fill(values[layer], 0.5f);  // every output is (0.5, ...): blocks do not matter
            if (layer == 1) {
                for (int block : new int[] {5, 11, 17, 23, 29, 35}) System.arraycopy(needle, 0, keys[layer], (block * BLOCK + 3) * DIM, DIM);
            }
            for (int i = 0; i < ROWS * HEADS; i++) {
                float[] q = layer == 1 ? needle : Reference.gaussian(random, DIM, layer == 0 ? 1 : 0.4);
                System.arraycopy(q, 0, queries[layer], i * DIM, DIM);
            }
            sequence.append(layer, keys[layer], values[layer], TOKENS);
        }
        int[] positions = new int[ROWS];
        for (int i = 0; i < ROWS; i++) positions[i] = TOKENS - ROWS + i;
        return new Layers(sequence, keys, values, queries, positions);
    }

    static int uniformBudget(int blocks) {
        return (int) Math.ceil(0.25 * blocks - 1e-9);
    }

    @Test
    void keepsTheTotalAndMovesBlocksToWhereTheOutputNeedsThem() {
        AetherConfig config = config();
        Layers l = build(config, 3);
        double[] scales = LayerBudgetCalibration.calibrate(config, l.sequence(), l.queries(), l.positions(), HEADS);
        int blocks = TOKENS / BLOCK;
        int[] budgets = new int[LAYERS];
        int total = 0;
        for (int layer = 0; layer < LAYERS; layer++) {
            budgets[layer] = (int) Math.round(scales[layer] * 0.25 * blocks);
            total += budgets[layer];
        }
        assertEquals(LAYERS * uniformBudget(blocks), total, "calibrated budgets " + Arrays.toString(budgets) + " must add up to the uniform total");
        assertEquals(2, budgets[0], "equal values: only the forced sink and newest block " + Arrays.toString(budgets));
        assertTrue(budgets[1] >= 7, "the needle layer needs its 6 needle blocks besides the 2 forced: " + Arrays.toString(budgets));
        assertTrue(budgets[2] > uniformBudget(blocks), "the diffuse layer gets the rest: " + Arrays.toString(budgets));
    }

    @Test
    void calibratedBudgetsGiveASmallerTotalErrorThanUniformOnesForTheSameBlocks() {
        AetherConfig config = config();
        Layers l = build(config, 5);
        double[] scales = LayerBudgetCalibration.calibrate(config, l.sequence(), l.queries(), l.positions(), HEADS);
        double uniform = totalError(config, l, null), calibrated = totalError(config, l, scales);
        assertTrue(calibrated < 0.8 * uniform, "summed relative error: calibrated " + calibrated + " vs uniform " + uniform);
    }

    /** Sum over layers and query heads of ||o - o_exact|| / ||o_exact|| for the last row (the newest position: causal-exact). */
    static double totalError(AetherConfig config, Layers l, double[] scales) {
        l.sequence().setBudgetScales(scales);
        AetherAttention attention = new AetherAttention(config, HEADS, 1, DIM);
        double sum = 0;
        long kept = 0;
        for (int layer = 0; layer < LAYERS; layer++) {
            float[] q = Arrays.copyOfRange(l.queries()[layer], (ROWS - 1) * HEADS * DIM, ROWS * HEADS * DIM), out = new float[HEADS * DIM];
            attention.decode(layer, l.sequence(), q, out, null);
            DecodePlan plan = attention.lastPlan();
            boolean[] keep = new boolean[TOKENS / BLOCK];
            for (int i = 0; i < plan.keptCount(0, 0); i++) keep[plan.keptLogicalBlock(0, 0, i)] = true;
            kept += plan.keptCount(0, 0);
            for (int h = 0; h < HEADS; h++) {
                double[] exact = Reference.attention(q, h * DIM, l.keys()[layer], l.values()[layer], TOKENS, DIM, BLOCK, null, TOKENS - 1);
                double[] sparse = Reference.attention(q, h * DIM, l.keys()[layer], l.values()[layer], TOKENS, DIM, BLOCK, keep, TOKENS - 1);
                float[] sparseF = new float[DIM];
                for (int d = 0; d < DIM; d++) sparseF[d] = (float) sparse[d];
                assertTrue(Reference.relativeError(out, h * DIM, sparse) < 1e-4, "the kernel attends exactly over the kept blocks");
                sum += Reference.relativeError(sparseF, 0, exact);
            }
        }
        assertEquals(LAYERS * uniformBudget(TOKENS / BLOCK), kept, "both read the same number of blocks");
        return sum;
    }

    @Test
    void shrinkingKeepsTheOrderAndTheGeometricMeanAndTakesTheSquareRootOfRatios() {
        double[] s = LayerBudgetCalibration.shrunk(new double[] {1, 100, 10});
        assertEquals(Math.sqrt(10), s[0], 1e-9);
        assertEquals(Math.sqrt(1000), s[1], 1e-9);
        assertEquals(10, s[2], 1e-9);
    }

    @Test
    void sensitivitiesWeighTheLayers() {
        AetherConfig config = config();
        Layers l = build(config, 3);
        LayerBudgetCalibration.Curves curves = LayerBudgetCalibration.errorCurves(config, l.sequence(), l.queries(), l.positions(), HEADS);
        int blocks = TOKENS / BLOCK;
        double[] even = LayerBudgetCalibration.budgets(config, l.sequence(), curves, new double[] {1, 1, 1});
        double[] favourDiffuse = LayerBudgetCalibration.budgets(config, l.sequence(), curves, new double[] {1, 1e-4, 1e4});
        long needleEven = Math.round(even[1] * 0.25 * blocks), needleLess = Math.round(favourDiffuse[1] * 0.25 * blocks);
        assertTrue(needleLess < needleEven, "a layer whose errors matter 10^4x less gets fewer blocks: " + needleLess + " vs " + needleEven);
    }

    @Test
    void rejectsInputThatDoesNotMatchTheCache() {
        AetherConfig config = config();
        Layers l = build(config, 7);
        assertThrows(IllegalArgumentException.class, () -> LayerBudgetCalibration.calibrate(config, l.sequence(), l.queries(), new int[] {0, 1, 2, TOKENS}, HEADS));
        assertThrows(IllegalArgumentException.class, () -> LayerBudgetCalibration.calibrate(config, l.sequence(), new float[2][], l.positions(), HEADS));
        AetherConfig topK = config.toBuilder().selection(SelectionMode.TOP_K).build();
        assertThrows(IllegalArgumentException.class, () -> LayerBudgetCalibration.calibrate(topK, l.sequence(), l.queries(), l.positions(), HEADS));
        assertThrows(IllegalArgumentException.class, () -> l.sequence().setBudgetScales(new double[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class, () -> l.sequence().setBudgetScales(new double[] {1, 1}));
    }
}
