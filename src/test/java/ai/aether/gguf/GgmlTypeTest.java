package ai.aether.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The ggml type table against gguf-py's GGML_QUANT_SIZES (fixtures/gguf/ggml_types.json, made by scripts/oracle/gguf_dump.py). */
class GgmlTypeTest {

    @Test
    void idsAndBlockSizesMatchTheGgufPackage() throws Exception {
        JsonNode reference;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/gguf/ggml_types.json")) {
            reference = new ObjectMapper().readTree(in);
        }
        Set<GgmlType> seen = new HashSet<>();
        for (var entry : reference.properties()) {
            GgmlType type = GgmlType.valueOf(entry.getKey());
            seen.add(type);
            assertEquals(entry.getValue().get("id").asInt(), type.id(), type.name());
            assertEquals(GgmlType.fromId(type.id()).orElseThrow(), type);
            assertEquals(entry.getValue().get("block_size").asInt(), type.blockSize(), type.name());
            // gguf-py still lists Q8_1 with two float32 scales (40 B); ggml's block_q8_1 holds two halves: 36 B.
            int expectedBytes = type == GgmlType.Q8_1 ? 36 : entry.getValue().get("bytes_per_block").asInt();
            assertEquals(expectedBytes, type.bytesPerBlock(), type.name());
        }
        assertEquals(Set.of(GgmlType.values()), seen, "every Java type is in gguf-py's table and vice versa");
        for (long removed : new long[]{4, 5, 31, 32, 33, 36, 37, 38, 42, -1}) assertTrue(GgmlType.fromId(removed).isEmpty());
    }

    @Test
    void byteSizeCountsWholeBlocks() {
        assertEquals(34L * 3, GgmlType.Q8_0.byteSize(96));
        assertEquals(210L * 2, GgmlType.Q6_K.byteSize(512));
        assertEquals(4L * 7, GgmlType.F32.byteSize(7));
        assertThrows(IllegalArgumentException.class, () -> GgmlType.Q4_0.byteSize(33));
    }
}
