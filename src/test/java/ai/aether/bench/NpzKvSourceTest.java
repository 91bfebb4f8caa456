package ai.aether.bench;

import ai.aether.npz.NpyArray;
import ai.aether.npz.NpzWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class NpzKvSourceTest {

    @TempDir
    Path tmp;

    /** keys[l][h][t][d] = 1000 l + 100 h + t + d / 10, values = -keys, queries[l][q][d] = 10 l + q + d / 100. */
    private Path write(boolean layered, int layers, int kvHeads, int queryHeads, int tokens, int dim, boolean half) throws IOException {
        float[] k = new float[layers * kvHeads * tokens * dim], v = new float[k.length], q = new float[layers * queryHeads * dim];
        int i = 0;
        for (int l = 0; l < layers; l++) for (int h = 0; h < kvHeads; h++) for (int t = 0; t < tokens; t++) for (int d = 0; d < dim; d++, i++) {
            k[i] = 1000 * l + 100 * h + t + d / 10f;
            v[i] = -k[i];
        }
        i = 0;
        for (int l = 0; l < layers; l++) for (int h = 0; h < queryHeads; h++) for (int d = 0; d < dim; d++) q[i++] = 10 * l + h + d / 100f;
        int[] kvShape = layered ? new int[]{layers, kvHeads, tokens, dim} : new int[]{kvHeads, tokens, dim};
        int[] qShape = layered ? new int[]{layers, queryHeads, dim} : new int[]{queryHeads, dim};
        Path file = tmp.resolve((layered ? "layered" : "flat") + (half ? "16" : "32") + ".npz");
        try (NpzWriter npz = new NpzWriter(file)) {
            npz.add("keys", half ? NpyArray.ofFloat16(k, kvShape) : NpyArray.ofFloats(k, kvShape));
            npz.add("values", half ? NpyArray.ofFloat16(v, kvShape) : NpyArray.ofFloats(v, kvShape));
            npz.add("queries", NpyArray.ofFloats(q, qShape));
            if (layered) npz.add("layers", NpyArray.ofInts(new int[]{5, 9}, 2));
        }
        return file;
    }

    @Test
    void layeredDumpGivesOneSnapshotPerLayerAndPrefixes() throws IOException {
        NpzKvSource source = new NpzKvSource(write(true, 2, 2, 6, 8, 4, false));
        assertEquals(2, source.count());
        assertEquals(8, source.maxTokens());
        KvSnapshot s = source.load(1, 5);
        assertEquals(5, s.tokens());
        assertEquals(6, s.queryHeads());
        assertEquals(3, s.groupSize());
        assertTrue(s.label().endsWith("layer 9"), s.label());
        assertEquals(1000 + 100 + 3 + 0.2f, s.keys()[s.kvOffset(1, 3) + 2], 1e-4);
        assertEquals(-(1000 + 4 + 0.1f), s.values()[s.kvOffset(0, 4) + 1], 1e-4);
        assertEquals(10 + 5 + 0.03f, s.queries()[5 * 4 + 3], 1e-5);
    }

    @Test
    void flatFloat16DumpIsOneSnapshot() throws IOException {
        NpzKvSource source = new NpzKvSource(write(false, 1, 1, 2, 4, 4, true));
        assertEquals(1, source.count());
        KvSnapshot s = source.load(0, 4);
        assertEquals(3.2f, s.keys()[s.kvOffset(0, 3) + 2], 1e-2);
    }

    @Test
    void mismatchedShapesAreNamed() throws IOException {
        Path file = tmp.resolve("bad.npz");
        try (NpzWriter npz = new NpzWriter(file)) {
            npz.add("keys", NpyArray.ofFloats(new float[16], 1, 4, 4));
            npz.add("values", NpyArray.ofFloats(new float[16], 1, 4, 4));
            npz.add("queries", NpyArray.ofFloats(new float[6], 2, 3));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NpzKvSource(file));
        assertTrue(e.getMessage().contains("'queries' must have shape (queryHeads, 4)") && e.getMessage().contains("[2, 3]"), e.getMessage());
        NpzKvSource ok = new NpzKvSource(write(false, 1, 1, 2, 4, 4, false));
        IllegalArgumentException longer = assertThrows(IllegalArgumentException.class, () -> ok.load(0, 5));
        assertTrue(longer.getMessage().contains("holds 4 tokens"), longer.getMessage());
    }
}
