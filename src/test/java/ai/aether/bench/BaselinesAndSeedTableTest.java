package ai.aether.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BaselinesAndSeedTableTest {

    @Test
    void sinkWindowKeepsTheFirstBlocksAndGrowsTheWindowToTheBudget() {
        BlockSelection s = Baselines.sinkWindow(2, 10, 1, new int[]{4, 2});
        assertArrayEquals(new int[]{0, 7, 8, 9}, s.keptBlocks(0));
        assertArrayEquals(new int[]{0, 9}, s.keptBlocks(1));
    }

    @Test
    void randomKeepsForcedBlocksExactBudgetAndIsDeterministic() {
        BlockSelection a = Baselines.random(3, 40, 1, 4, new int[]{10, 10, 5}, 7);
        BlockSelection b = Baselines.random(3, 40, 1, 4, new int[]{10, 10, 5}, 7);
        for (int h = 0; h < 3; h++) {
            assertArrayEquals(a.keptBlocks(h), b.keptBlocks(h));
            assertTrue(a.isKept(h, 0) && a.isKept(h, 36) && a.isKept(h, 39), "sink and window kept");
        }
        assertArrayEquals(new int[]{10, 10, 5}, a.keptCounts());
        assertFalse(java.util.Arrays.equals(a.keptBlocks(0), a.keptBlocks(1)), "heads draw different blocks");
    }

    @Test
    void oracleKeepsTheLargestGroupMassAndNoMethodBeatsItsMeanRecall() {
        SyntheticKv source = new SyntheticKv(2, 4, 16, 10_000, 3, 1);
        KvSnapshot s = source.load(0, 640);
        HeadReference[] refs = new HeadReference[4];
        for (int h = 0; h < 4; h++) refs[h] = HeadReference.compute(s, h, 32);
        int[] budget = {5, 5};
        BlockSelection oracle = Baselines.oracle(refs, 2, budget);
        assertArrayEquals(budget, oracle.keptCounts());
        double oracleRecall = meanRecall(refs, oracle);
        for (long seed = 0; seed < 20; seed++) {
            double r = meanRecall(refs, Baselines.random(2, 20, 1, 2, budget, seed));
            assertTrue(r <= oracleRecall + 1e-12, "random " + r + " > oracle " + oracleRecall);
        }
        assertTrue(meanRecall(refs, Baselines.sinkWindow(2, 20, 1, budget)) <= oracleRecall + 1e-12);
    }

    private static double meanRecall(HeadReference[] refs, BlockSelection s) {
        double sum = 0;
        for (int qh = 0; qh < refs.length; qh++) {
            sum += QualityMetrics.evaluate(refs[qh], RowAccumulator.keptOf(s, qh / 2)).massRecall();
        }
        return sum / refs.length;
    }

    @Test
    void seedTableInterpolatesBetweenItsRows() {
        SeedTable.Thresholds t = SeedTable.at(0.75);
        assertEquals((0.995 + 0.990) / 2, t.cosine(), 1e-12);
        assertEquals((0.92 + 0.88) / 2, t.precision(), 1e-12);
        assertEquals((0.95 + 0.92) / 2, t.recall(), 1e-12);
        assertEquals(0.998, SeedTable.at(0.2).cosine());
        assertEquals(0.85, SeedTable.at(0.97).recall());
    }

    @Test
    void violationsNameTheMetricAndSkipBaselines() {
        ResultRow good = row("shrunk-box", "AETHER", 0.8, 0.995, 0.9, 0.95);
        ResultRow badRecall = row("basic", "AETHER", 0.8, 0.995, 0.9, 0.80);
        ResultRow badBaseline = row("random", "RANDOM", 0.8, 0.5, 0.1, 0.1);
        List<String> v = SeedTable.violations(List.of(good, badRecall, badBaseline));
        assertEquals(1, v.size(), v.toString());
        assertTrue(v.getFirst().contains("basic") && v.getFirst().contains("block recall 0.8000 < 0.9200"), v.getFirst());
    }

    private static ResultRow row(String method, String kind, double sparsity, double cosine, double precision, double recall) {
        double n = Double.NaN;
        return new ResultRow("test", 1024, method, kind, sparsity, sparsity, cosine, cosine, n, n, n, n, n, precision, recall,
                1 / (1 - sparsity), n, n, n, n, n, n, n, 0, 0, 0, n, n, n);
    }
}
