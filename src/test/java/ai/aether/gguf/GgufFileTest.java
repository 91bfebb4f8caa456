package ai.aether.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** Reads the shipped files and checks facts published in ../shared/models/README.md and tokenizers/README.md. */
class GgufFileTest {

    private static Map<GgmlType, Integer> typeCounts(GgufFile gguf) {
        Map<GgmlType, Integer> counts = new TreeMap<>();
        for (GgufTensorInfo info : gguf.tensors()) counts.merge(info.type(), 1, Integer::sum);
        return counts;
    }

    @Test
    void stories260kF32() throws Exception {
        Path file = SharedFiles.require(Path.of("models/stories260K/stories260K.gguf"));
        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(3, gguf.version());
            assertEquals(32, gguf.alignment());
            assertEquals("llama", gguf.getString("general.architecture"));
            assertEquals(5, gguf.getLong("llama.block_count"));
            assertEquals(64, gguf.getInt("llama.embedding_length"));
            assertEquals(8, gguf.getLong("llama.attention.head_count"));
            assertEquals(4, gguf.getLong("llama.attention.head_count_kv"));
            assertEquals("llama", gguf.getString("tokenizer.ggml.model"));
            assertEquals(512, gguf.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(512, gguf.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(512, gguf.getIntArray("tokenizer.ggml.token_type").length);
            assertEquals(Map.of(GgmlType.F32, gguf.tensors().size()), typeCounts(gguf));

            GgufTensorInfo embedding = gguf.tensor("token_embd.weight");
            assertArrayEquals(new long[]{64, 512}, embedding.shape());
            assertEquals(64L * 512 * 4, embedding.byteSize());
            MemorySegment data = gguf.tensorData(embedding);
            assertEquals(embedding.byteSize(), data.byteSize());
            assertTrue(data.isReadOnly());
            // The slice must show the file's own bytes at dataOffset + offset (read here with plain file I/O).
            try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "r")) {
                byte[] expected = new byte[64];
                raw.seek(gguf.dataOffset() + embedding.offset());
                raw.readFully(expected);
                assertArrayEquals(expected, data.asSlice(0, 64).toArray(ValueLayout.JAVA_BYTE));
                float first = ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).getFloat();
                assertEquals(first, data.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            }
            assertEquals(0, gguf.dataOffset() % 32);
        }
    }

    @Test
    void stories260kQuantisedTypeCounts() throws Exception {
        try (GgufFile q8 = GgufFile.open(SharedFiles.require(Path.of("models/stories260K/stories260K-Q8_0.gguf")));
             GgufFile q4 = GgufFile.open(SharedFiles.require(Path.of("models/stories260K/stories260K-Q4_0.gguf")))) {
            assertEquals(Map.of(GgmlType.Q8_0, 32, GgmlType.F16, 5, GgmlType.F32, 11), typeCounts(q8));
            assertEquals(Map.of(GgmlType.Q4_0, 31, GgmlType.Q8_0, 1, GgmlType.F16, 5, GgmlType.F32, 11), typeCounts(q4));
        }
    }

    @Test
    void smolLm2() throws Exception {
        Path file = SharedFiles.require(Path.of("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(Map.of(GgmlType.Q4_1, 210, GgmlType.Q8_0, 1, GgmlType.F32, 61), typeCounts(gguf));
            assertEquals(GgmlType.Q8_0, gguf.tensor("token_embd.weight").type());
            assertArrayEquals(new long[]{576, 49152}, gguf.tensor("token_embd.weight").shape());
            assertEquals(30, gguf.getLong("llama.block_count"));
            assertEquals(576, gguf.getLong("llama.embedding_length"));
            assertEquals(1536, gguf.getLong("llama.feed_forward_length"));
            assertEquals(9, gguf.getLong("llama.attention.head_count"));
            assertEquals(3, gguf.getLong("llama.attention.head_count_kv"));
            assertEquals(8192, gguf.getLong("llama.context_length"));
            assertEquals(100000.0, gguf.getDouble("llama.rope.freq_base"));
            assertEquals(1e-5, gguf.getDouble("llama.attention.layer_norm_rms_epsilon"), 1e-12);
            assertEquals("gpt2", gguf.getString("tokenizer.ggml.model"));
            assertEquals("smollm", gguf.getString("tokenizer.ggml.pre"));
            String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
            assertEquals(49152, tokens.length);
            assertEquals("<|endoftext|>", tokens[0]);
            assertEquals("<|im_start|>", tokens[1]);
            assertEquals("<|im_end|>", tokens[2]);
            assertEquals(48900, gguf.getStringArray("tokenizer.ggml.merges").length);
            assertEquals(1, gguf.getLong("tokenizer.ggml.bos_token_id"));
            assertEquals(2, gguf.getLong("tokenizer.ggml.eos_token_id"));
            assertTrue(gguf.getString("tokenizer.chat_template").contains("<|im_start|>"));
            assertEquals(GgufValueType.UINT32, gguf.findValueType("llama.block_count").orElseThrow());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "ggml-vocab-deepseek-coder.gguf, llama, gpt2, deepseek-coder, 32256",
            "ggml-vocab-falcon.gguf, falcon, gpt2, falcon, 65024",
            "ggml-vocab-gpt-2.gguf, gpt2, gpt2, gpt-2, 50257",
            "ggml-vocab-llama-spm.gguf, llama, llama, default, 32000",
            "ggml-vocab-phi-3.gguf, phi3, llama, default, 32064",
            "ggml-vocab-refact.gguf, refact, gpt2, refact, 49216",
            "ggml-vocab-starcoder.gguf, starcoder2, gpt2, starcoder, 49152",
    })
    void vocabOnlyFiles(String name, String architecture, String model, String pre, int vocab) throws Exception {
        try (GgufFile gguf = GgufFile.open(SharedFiles.require(Path.of("tokenizers", name)))) {
            assertTrue(gguf.tensors().isEmpty());
            assertEquals(architecture, gguf.getString("general.architecture"));
            assertEquals(model, gguf.getString("tokenizer.ggml.model"));
            assertEquals(pre, gguf.findString("tokenizer.ggml.pre").orElse("default"));
            assertEquals(vocab, gguf.getStringArray("tokenizer.ggml.tokens").length);
        }
    }

    @Test
    void missingKeyAndWrongTypeNameTheKeyAndFile() throws Exception {
        Path file = SharedFiles.require(Path.of("models/stories260K/stories260K.gguf"));
        try (GgufFile gguf = GgufFile.open(file)) {
            GgufFormatException missing = assertThrows(GgufFormatException.class, () -> gguf.getLong("llama.no_such_key"));
            assertTrue(missing.getMessage().contains("llama.no_such_key") && missing.getMessage().contains(file.toString()),
                    missing.getMessage());
            assertTrue(gguf.findLong("llama.no_such_key").isEmpty());
            GgufFormatException wrong = assertThrows(GgufFormatException.class, () -> gguf.getLong("general.architecture"));
            assertTrue(wrong.getMessage().contains("general.architecture") && wrong.getMessage().contains("expected an integer"),
                    wrong.getMessage());
            assertThrows(GgufFormatException.class, () -> gguf.findStringArray("tokenizer.ggml.scores"));
            assertThrows(GgufFormatException.class, () -> gguf.tensor("no.such.tensor"));
        }
    }
}
