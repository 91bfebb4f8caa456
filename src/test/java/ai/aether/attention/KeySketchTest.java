package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-token key sketch behind the KEY_SKETCH score: its codes against the keys in float64, the
 * cache's channel choice against a float64 recount, and that it ranks a block holding one
 * matching key first where the box does not.
 */
class KeySketchTest {

    private static final int DIM = 16, BLOCK = 32, HEADS = 2;

    /** Keys with a few large channels (like RoPE's slow pairs), [tokens][HEADS][DIM]. */
    private static float[] keys(Random r, int tokens) {
        float[] k = new float[tokens * HEADS * DIM];
        for (int i = 0; i < k.length; i++) {
            int d = i % DIM;
            k[i] = (float) (r.nextGaussian() * (d == 3 || d == 7 || d == 12 ? 4 : d == 0 ? 2 : 0.5));
        }
        return k;
    }

    @Test
    void codesRecoverEachTokensOffsetFromTheBoxCentreWithinHalfAStep() {
        Random r = new Random(3);
        AetherKvPool pool = new AetherKvPool(DIM, BLOCK, KvDtype.FP32, 0);
        SequenceKvCache cache = pool.newSequence(1, HEADS);
        float[] k = keys(r, 3 * BLOCK + 5);
        cache.append(0, k, k, 3 * BLOCK + 5);
        BlockMetadataStore store = pool.metadata();
        assertEquals(BlockMetadataStore.DEFAULT_SKETCH_CHANNELS > DIM ? DIM : BlockMetadataStore.DEFAULT_SKETCH_CHANNELS, store.sketchChannels());
        for (int h = 0; h < HEADS; h++) {
            for (int b = 0; b < 3; b++) {
                int id = cache.blockId(0, h, b);
                double off = store.quantizedOffset(id), step = store.quantizedStep(id);
                for (int j = 0; j < store.sketchChannels(); j++) {
                    int d = store.sketchChannel(id, j);
                    double centre = off + step * (store.quantizedLowCode(id, d) + store.quantizedHighCode(id, d)) / 2;
                    double reach = 0;
                    for (int t = 0; t < BLOCK; t++) reach = Math.max(reach, Math.abs(k[((b * BLOCK + t) * HEADS + h) * DIM + d] - centre));
                    double codeStep = reach / 127;
                    for (int t = 0; t < BLOCK; t++) {
                        double offset = k[((b * BLOCK + t) * HEADS + h) * DIM + d] - centre;
                        assertEquals(offset, store.sketchDeviation(id, j, t), codeStep * 0.5 + 1e-6 * reach,
                                "head " + h + " block " + b + " channel " + d + " token " + t);
                    }
                }
            }
        }
    }

    @Test
    void everyBlockSketchesTheHeadsLargestChannelsWithoutPositionZeroAndTruncateRestoresThem() {
        Random r = new Random(5);
        AetherKvPool pool = new AetherKvPool(DIM, BLOCK, KvDtype.FP32, 0, 4);
        SequenceKvCache cache = pool.newSequence(1, HEADS);
        int tokens = 4 * BLOCK;
        float[] k = keys(r, tokens);
        for (int h = 0; h < HEADS; h++) k[h * DIM + 5] = 1e4f;  // position 0 (a sink) would dominate channel 5 if counted
        for (int t = 0; t < 2 * BLOCK; t++) k[((2 * BLOCK + t) * HEADS) * DIM + 9] = 9;  // head 0: channel 9 grows large in blocks 2-3
        cache.append(0, k, k, 2 * BLOCK);
        assertSketchChannels(pool, cache, k, 2);
        float[] rest = Arrays.copyOfRange(k, 2 * BLOCK * HEADS * DIM, tokens * HEADS * DIM);
        cache.append(0, rest, rest, 2 * BLOCK);
        assertSketchChannels(pool, cache, k, 4);
        assertTrue(Arrays.stream(new int[] {0, 1, 2, 3}).anyMatch(j -> pool.metadata().sketchChannel(cache.blockId(0, 0, 0), j) == 9),
                "head 0's first block is sketched again once channel 9 joins the head's set");
        cache.truncate(0, 2 * BLOCK + 5);
        assertSketchChannels(pool, cache, k, 2);
    }

    /** Every full block of each head sketches the 4 channels with the largest sum of |k| over [1, fullBlocks * BLOCK), in float64. */
    private static void assertSketchChannels(AetherKvPool pool, SequenceKvCache cache, float[] k, int fullBlocks) {
        for (int h = 0; h < HEADS; h++) {
            double[] sum = new double[DIM];
            for (int t = 1; t < fullBlocks * BLOCK; t++) for (int d = 0; d < DIM; d++) sum[d] += Math.abs(k[(t * HEADS + h) * DIM + d]);
            Integer[] order = new Integer[DIM];
            for (int d = 0; d < DIM; d++) order[d] = d;
            Arrays.sort(order, (x, y) -> Double.compare(sum[y], sum[x]));
            int[] expected = new int[4];
            for (int j = 0; j < 4; j++) expected[j] = order[j];
            Arrays.sort(expected);
            for (int b = 0; b < fullBlocks; b++) {
                int id = cache.blockId(0, h, b);
                int[] actual = new int[4];
                for (int j = 0; j < 4; j++) actual[j] = pool.metadata().sketchChannel(id, j);
                assertArrayEquals(expected, actual, "head " + h + " block " + b + " of " + fullBlocks);
                assertTrue(pool.metadata().sketchUses(id, expected));
            }
        }
    }

    /**
     * The radar's sketch term, max_t sum_j q[channel_j] * deviation_tj, against float64 over the stored
     * codes, at block sizes that take its four-vector loop (64), its one-vector loop (32, 48) and its
     * scalar tail (24 = 16 + 8 on AVX-512). The term is the KEY_SKETCH score less the box part,
     * which is QUANTIZED_BOX's with the shrink factor at 0.
     */
    @ParameterizedTest
    @ValueSource(ints = {64, 32, 48, 24})
    void sketchTermMatchesFloat64AtEveryBlockSize(int blockSize) {
        Random r = new Random(blockSize);
        AetherKvPool pool = new AetherKvPool(DIM, blockSize, KvDtype.FP16, 0);
        SequenceKvCache cache = pool.newSequence(1, HEADS);
        int blocks = 6, rows = 3;
        float[] k = keys(r, blocks * blockSize);
        cache.append(0, k, k, blocks * blockSize);
        float[] queries = new float[rows * DIM];
        for (int i = 0; i < queries.length; i++) queries[i] = (float) r.nextGaussian();
        AetherConfig sketch = AetherConfig.builder().blockSize(blockSize).radarScore(RadarScore.KEY_SKETCH).build();
        AetherConfig box = AetherConfig.builder().blockSize(blockSize).radarScore(RadarScore.QUANTIZED_BOX).shrinkFactor(0).build();
        BlockMetadataStore store = pool.metadata();
        for (int h = 0; h < HEADS; h++) {
            int[] ids = cache.blockIdsView(0, h);
            float[] withSketch = new float[rows * blocks], boxOnly = new float[rows * blocks];
            new EventRadar(sketch).scoreRows(store, queries, 0, rows, ids, blocks, withSketch);
            new EventRadar(box).scoreRows(store, queries, 0, rows, ids, blocks, boxOnly);
            for (int row = 0; row < rows; row++) {
                for (int b = 0; b < blocks; b++) {
                    double expected = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t < blockSize; t++) {
                        double v = 0;
                        for (int j = 0; j < store.sketchChannels(); j++) {
                            v += (double) queries[row * DIM + store.sketchChannel(ids[b], j)] * store.sketchDeviation(ids[b], j, t);
                        }
                        expected = Math.max(expected, v);
                    }
                    double got = (withSketch[row * blocks + b] - boxOnly[row * blocks + b]) * Math.sqrt(DIM);
                    assertEquals(expected, got, 1e-3 * (1 + Math.abs(expected)), "block size " + blockSize + ", head " + h + ", row " + row + ", block " + b);
                }
            }
        }
    }

    @Test
    void aRewoundAndRefilledCacheSketchesAlike() {
        Random r = new Random(9);
        AetherKvPool pool = new AetherKvPool(DIM, BLOCK, KvDtype.FP16, 0);
        SequenceKvCache cache = pool.newSequence(1, HEADS);
        float[] k = keys(r, 5 * BLOCK), other = keys(r, 5 * BLOCK);
        cache.append(0, k, k, 5 * BLOCK);
        byte[] before = sketchOf(pool, cache, 4);
        cache.truncate(0, 2 * BLOCK + 7);
        float[] wrong = Arrays.copyOfRange(other, 0, 3 * BLOCK * HEADS * DIM);  // different keys in between...
        cache.append(0, wrong, wrong, 3 * BLOCK - 7);
        cache.truncate(0, 2 * BLOCK + 7);
        float[] rest = Arrays.copyOfRange(k, (2 * BLOCK + 7) * HEADS * DIM, 5 * BLOCK * HEADS * DIM);  // ...then the original ones
        cache.append(0, rest, rest, 3 * BLOCK - 7);
        assertArrayEquals(before, sketchOf(pool, cache, 4));
    }

    private static byte[] sketchOf(AetherKvPool pool, SequenceKvCache cache, int block) {
        BlockMetadataStore store = pool.metadata();
        int c = store.sketchChannels();
        byte[] out = new byte[HEADS * c * (BLOCK + 1)];
        for (int h = 0; h < HEADS; h++) {
            int id = cache.blockId(0, h, block);
            for (int j = 0; j < c; j++) {
                out[(h * c + j) * (BLOCK + 1)] = (byte) store.sketchChannel(id, j);
                for (int t = 0; t < BLOCK; t++) out[(h * c + j) * (BLOCK + 1) + 1 + t] = (byte) Math.round(store.sketchDeviation(id, j, t) * 16);
            }
        }
        return out;
    }

    @Test
    void aBlockWithOneMatchingKeyOutranksSpreadBlocks() {
        // Every block's keys span the same wide box; one block also holds a key close to the query.
        Random r = new Random(11);
        int blocks = 12, tokens = blocks * BLOCK, needleBlock = 7;
        float[] k = new float[tokens * HEADS * DIM];
        for (int i = 0; i < k.length; i++) k[i] = (float) (r.nextGaussian() * 2);
        float[] query = new float[HEADS * DIM];
        for (int d = 0; d < DIM; d++) query[d] = (float) r.nextGaussian();
        double norm = 0;
        for (int d = 0; d < DIM; d++) norm += query[d] * query[d];
        for (int d = 0; d < DIM; d++) k[((needleBlock * BLOCK + 13) * HEADS) * DIM + d] = (float) (query[d] / Math.sqrt(norm) * 10);
        int[] ranks = new int[2];
        RadarScore[] scores = {RadarScore.KEY_SKETCH, RadarScore.QUEST};
        for (int s = 0; s < 2; s++) {
            AetherKvPool pool = new AetherKvPool(DIM, BLOCK, KvDtype.FP32, 0, DIM);
            SequenceKvCache cache = pool.newSequence(1, HEADS);
            cache.append(0, k, k, tokens);
            EventRadar radar = new EventRadar(AetherConfig.builder().blockSize(BLOCK).radarScore(scores[s]).build());
            float[] out = new float[blocks];
            radar.scoreBlocks(pool.metadata(), query, 0, cache.blockIdsView(0, 0), blocks, out, 0);
            int better = 0;
            for (int b = 0; b < blocks; b++) if (out[b] > out[needleBlock]) better++;
            ranks[s] = better;
        }
        assertEquals(0, ranks[0], "KEY_SKETCH with every channel sketched ranks the needle block first");
        assertTrue(ranks[1] > 0, "the box bound does not single it out (else this test shows nothing)");
    }

    /** The grouped path (several query rows share the widened codes, three at a time) equals the one-row path for any row count. */
    @Test
    void groupedScoresEqualOneRowAtATime() {
        Random r = new Random(13);
        int blockSize = 64, dim = 32, blocks = 9, tokens = blocks * blockSize - 17;  // the last block open (no metadata)
        AetherKvPool pool = new AetherKvPool(dim, blockSize, KvDtype.FP16, 0);
        SequenceKvCache cache = pool.newSequence(1, 1);
        float[] k = new float[tokens * dim];
        for (int i = 0; i < k.length; i++) k[i] = (float) (r.nextGaussian() * (i % dim < 4 ? 3 : 1));
        cache.append(0, k, k, tokens);
        for (RadarScore score : new RadarScore[] {RadarScore.KEY_SKETCH, RadarScore.QUANTIZED_BOX, RadarScore.QUANTIZED_BOUND}) {
            EventRadar radar = new EventRadar(AetherConfig.builder().blockSize(blockSize).radarScore(score).build());
            for (int rows = 1; rows <= 7; rows++) {
                float[] queries = new float[rows * dim];
                for (int i = 0; i < queries.length; i++) queries[i] = (float) r.nextGaussian();
                float[] grouped = new float[rows * blocks];
                radar.scoreRows(pool.metadata(), queries, 0, rows, cache.blockIdsView(0, 0), blocks, grouped);
                for (int row = 0; row < rows; row++) {
                    float[] single = new float[blocks];
                    radar.scoreBlocks(pool.metadata(), queries, row * dim, cache.blockIdsView(0, 0), blocks, single, 0);
                    for (int b = 0; b < blocks; b++) {
                        assertEquals(single[b], grouped[row * blocks + b], 1e-4f * (1 + Math.abs(single[b])),
                                score + ", " + rows + " rows, row " + row + ", block " + b);
                    }
                    assertEquals(Float.POSITIVE_INFINITY, grouped[row * blocks + blocks - 1], "the open block is always kept");
                }
            }
        }
    }
}
