package ai.aether.attention;

import ai.aether.kernels.attention.DecodePlan;
import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
        return AetherConfig.builder().blockSize(BLOCK).kvDtype(KvDtype.FP32).minSeqLength(0).minKeptTokens(0).selection(SelectionMode.TARGET_SPARSITY)
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
    void exactOrderCurvesReadTheTrueHeaviestBlocksFirst() {
        AetherConfig config = config();
        Layers l = build(config, 11);
        LayerBudgetCalibration.Curves curves = LayerBudgetCalibration.errorCurves(config, l.sequence(), l.queries(), l.positions(), HEADS);
        int blocks = TOKENS / BLOCK;
        for (int layer = 0; layer < LAYERS; layer++) {
            double[] radar = curves.error()[layer], exact = curves.exactOrderError()[layer];
            assertEquals(blocks + 1, exact.length);
            assertEquals(1.0, exact[0], 1e-12, "nothing read: the whole output is missing");
            assertEquals(0.0, exact[blocks], 1e-9, "every block read: exact");
            assertEquals(0.0, radar[blocks], 1e-9);
        }
        for (int k = 1; k <= blocks; k++) assertEquals(0.0, curves.exactOrderError()[0][k], 1e-9, "layer 0's values are all equal");
        // Independently, in float64: per row, the group's summed true block shares order the blocks after the
        // forced ones (the sink and the newest block here), and the curve is the mean relative error over rows and heads.
        assertEquals(2, curves.forced()[1]);
        for (int layer = 1; layer < LAYERS; layer++) {
            for (int k : new int[] {2, 5, 10, 20}) {
                double sum = 0;
                for (int row = 0; row < ROWS; row++) {
                    int position = l.positions()[row];
                    double[] share = new double[blocks];
                    for (int h = 0; h < HEADS; h++) {
                        double[] logits = new double[position + 1];
                        double max = Double.NEGATIVE_INFINITY, z = 0;
                        for (int t = 0; t <= position; t++) {
                            double dot = 0;
                            for (int d = 0; d < DIM; d++) dot += (double) l.queries()[layer][(row * HEADS + h) * DIM + d] * l.keys()[layer][t * DIM + d];
                            logits[t] = dot / Math.sqrt(DIM);
                            max = Math.max(max, logits[t]);
                        }
                        for (int t = 0; t <= position; t++) z += Math.exp(logits[t] - max);
                        for (int t = 0; t <= position; t++) share[t / BLOCK] += Math.exp(logits[t] - max) / z;
                    }
                    Integer[] order = new Integer[blocks - 2];
                    for (int b = 1; b < blocks - 1; b++) order[b - 1] = b;
                    Arrays.sort(order, (a, b) -> Double.compare(share[b], share[a]));
                    boolean[] keep = new boolean[blocks];
                    keep[0] = keep[blocks - 1] = true;
                    for (int i = 0; i < k - 2; i++) keep[order[i]] = true;
                    float[] q = Arrays.copyOfRange(l.queries()[layer], row * HEADS * DIM, (row + 1) * HEADS * DIM);
                    for (int h = 0; h < HEADS; h++) {
                        double[] exactOut = Reference.attention(q, h * DIM, l.keys()[layer], l.values()[layer], TOKENS, DIM, BLOCK, null, position);
                        double[] sparse = Reference.attention(q, h * DIM, l.keys()[layer], l.values()[layer], TOKENS, DIM, BLOCK, keep, position);
                        double diff = 0, norm = 0;
                        for (int d = 0; d < DIM; d++) {
                            diff += (sparse[d] - exactOut[d]) * (sparse[d] - exactOut[d]);
                            norm += exactOut[d] * exactOut[d];
                        }
                        sum += Math.sqrt(diff / norm);
                    }
                }
                assertEquals(sum / (ROWS * HEADS), curves.exactOrderError()[layer][k], 1e-6, "layer " + layer + ", k " + k);
            }
        }
    }

    @Test
    void rerankLayersAreWhereSensitivityTimesTheOrdersGapIsLargest() {
        AetherConfig config = config().toBuilder().rerankFactor(2).rerankShare(0.3).build();  // ceil(0.3 x 3) = 1 layer
        Layers l = build(config, 3);
        int blocks = TOKENS / BLOCK;
        double[][] radar = new double[LAYERS][blocks + 1], exact = new double[LAYERS][blocks + 1];
        for (int layer = 0; layer < LAYERS; layer++) {
            Arrays.fill(radar[layer], 0.5);
            Arrays.fill(exact[layer], 0.5);
        }
        Arrays.fill(exact[0], 0.3);  // gap 0.25 - 0.09 = 0.16
        Arrays.fill(exact[2], 0.1);  // gap 0.25 - 0.01 = 0.24
        LayerBudgetCalibration.Curves curves = new LayerBudgetCalibration.Curves(radar, exact, new int[] {2, 2, 2}, new int[] {10, 10, 10});
        boolean[] even = LayerBudgetCalibration.rerankLayers(config, l.sequence(), curves, null, new double[] {1, 1, 1});
        assertArrayEquals(new boolean[] {false, false, true}, even);
        boolean[] weighted = LayerBudgetCalibration.rerankLayers(config, l.sequence(), curves, null, new double[] {2, 100, 1});
        assertArrayEquals(new boolean[] {true, false, false}, weighted, "layer 1 gains nothing from a better order, however sensitive");
        AetherConfig named = config.toBuilder().rerankLayers(java.util.Set.of(1)).build();
        assertEquals(null, LayerBudgetCalibration.rerankLayers(named, l.sequence(), curves, null, new double[] {1, 1, 1}),
                "named layers: the config decides");
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
