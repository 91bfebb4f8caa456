package ai.aether.engine;

import ai.aether.attention.AetherConfig;
import ai.aether.gguf.GgmlType;
import ai.aether.gguf.GgufTensorInfo;
import ai.aether.model.SharedModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The memory a generation reports, against sizes worked out from the GGUF tensor table and the cache's shape. */
class MemoryReportTest {

    /** Formats the engine repacks onto the heap; everything else is read from the mapped file. */
    private static final Set<GgmlType> REPACKED = EnumSet.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0);

    @Test
    void readsThePeakResidentSetFromAProcStatusFile(@TempDir Path dir) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nVmPeak:\t 9000000 kB\nVmHWM:\t  723028 kB\nVmRSS:\t  700000 kB\n");
        assertEquals(723028L * 1024, MemoryReport.statusKilobytes(status, "VmHWM:"));
        assertEquals(-1, MemoryReport.statusKilobytes(status, "VmSwap:"), "a missing field is unknown, not 0");
        Files.writeString(status, "VmHWM:\t  723028 pages\n");
        assertEquals(-1, MemoryReport.statusKilobytes(status, "VmHWM:"), "an unknown unit is unknown, not a wrong number");
        assertEquals(-1, MemoryReport.statusKilobytes(dir.resolve("absent"), "VmHWM:"));
    }

    @Test
    void aGenerationReportsItsWeightsKvCacheAndMetadata() throws Exception {
        Path file = SharedModels.require(SharedModels.STORIES_Q8_0);
        AetherConfig aether = AetherConfig.defaults().toBuilder().minSeqLength(16).build();
        try (LLM dense = LLM.load(file); LLM sparse = LLM.load(file, aether)) {
            GenerationResult d = dense.generate("Once upon a time", GenerationParams.greedy(24));
            GenerationResult s = sparse.generate("Once upon a time", GenerationParams.greedy(24));
            var config = dense.model().config();
            int cached = d.timings().promptTokens() + d.tokens().length;

            // Weights: the quantised matrices' bytes from the tensor table (the repacked copy keeps the
            // file's bytes per row and block; a last, partial group of rows is padded), plus fp32 norms.
            long quantised = 0, padding = 0, norms = 0;
            for (GgufTensorInfo t : dense.model().gguf().tensors()) {
                if (t.shape().length == 2 && REPACKED.contains(t.type())) {
                    quantised += t.byteSize();
                    padding += 16 * t.byteSize() / t.shape()[1];  // at most 16 rows more per matrix
                } else if (t.name().endsWith("norm.weight")) {
                    norms += 4 * t.shape()[0];
                }
            }
            MemoryReport m = d.memory();
            assertTrue(quantised > 0, "the Q8_0 file has quantised matrices");
            assertTrue(m.weightHeapBytes() >= quantised + norms && m.weightHeapBytes() <= quantised + norms + padding,
                    "weights on the heap " + m.weightHeapBytes() + ", tensor table says " + (quantised + norms) + " + padding <= " + padding);
            assertEquals(Files.size(file), m.modelFileBytes());

            // KV: fp16 keys and values of every cached token are held (blocks add padding and whole slabs).
            long raw = 2L * config.layers() * config.kvHeads() * cached * config.headDim() * 2;
            assertTrue(m.kvBytes() >= raw, "KV " + m.kvBytes() + " < raw " + raw);
            assertEquals(0, m.metadataBytes(), "a dense cache keeps no metadata");
            assertTrue(s.memory().metadataBytes() > 0, "AETHER keeps per-block metadata beside the blocks");
            assertTrue(s.memory().kvBytes() >= raw);

            if (Files.isReadable(Path.of("/proc/self/status"))) {
                assertTrue(m.peakResidentBytes() >= Runtime.getRuntime().totalMemory() / 4,
                        "the process's peak RSS " + m.peakResidentBytes() + " holds at least part of the heap");
            }
            String line = s.memory().summary();
            assertTrue(line.contains("AETHER metadata") && line.contains("MiB"), line);
        }
    }
}
