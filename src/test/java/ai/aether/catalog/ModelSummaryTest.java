package ai.aether.catalog;

import ai.aether.gguf.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code models list} columns against values computed here from each model's published shape. */
class ModelSummaryTest {

    private static final Path SHARED = Path.of("..", "shared", "models");

    @Test
    void tinySyntheticFile(@TempDir Path tmp) throws IOException {
        Path file = Files.write(tmp.resolve("tiny.gguf"), TestWheels.tinyGguf());
        ModelSummary summary = ModelSummary.read(file);
        assertEquals("llama", summary.architecture());
        assertEquals(65_536, summary.parameterCount());
        assertTrue(summary.contextLength().isEmpty());
        assertEquals(Map.of(GgmlType.F32, 1), summary.tensorTypeCounts());
        assertEquals("F32 x1", summary.tensorTypesText());
        assertEquals("65.5K", summary.parameterCountText());
        assertEquals(Files.size(file), summary.fileSize());
    }

    @Test
    void damagedFileGetsTheReadersError(@TempDir Path tmp) throws IOException {
        byte[] whole = TestWheels.tinyGguf();
        Path truncated = Files.write(tmp.resolve("cut.gguf"), java.util.Arrays.copyOf(whole, 40));
        IOException failure = assertThrows(IOException.class, () -> ModelSummary.read(truncated));
        assertTrue(failure.getMessage().contains("cut.gguf"), failure.getMessage());
    }

    @Test
    void smollm2MatchesItsArchitecture() throws IOException {
        Path file = SHARED.resolve("smollm2-135m-instruct").resolve("SmolLM2-135M-Instruct.Q4_1.gguf");
        assumeTrue(Files.isRegularFile(file), "needs ../shared/models (SmolLM2 GGUF) beside the repo");
        // ../shared/models/README.md: dim 576, 30 layers, 9 heads / 3 KV heads of 64, FFN 1536,
        // vocab 49152, tied embeddings; Q4_1 x210, Q8_0 x1, F32 x61; context 8192.
        long dim = 576, layers = 30, kvDim = 3 * 64, ffn = 1536, vocab = 49_152;
        long perLayer = dim * dim + 2 * dim * kvDim + dim * dim + 3 * dim * ffn + 2 * dim;
        long expected = vocab * dim + layers * perLayer + dim;
        ModelSummary summary = ModelSummary.read(file);
        assertEquals("llama", summary.architecture());
        assertEquals(expected, summary.parameterCount());
        assertEquals(8192, summary.contextLength().orElseThrow());
        assertEquals(Map.of(GgmlType.Q4_1, 210, GgmlType.Q8_0, 1, GgmlType.F32, 61), summary.tensorTypeCounts());
        assertEquals("Q4_1 x210, F32 x61, Q8_0 x1", summary.tensorTypesText());
        assertEquals(98_362_432L, summary.fileSize());
    }

    @Test
    void stories260kMatchesItsArchitecture() throws IOException {
        Path file = SHARED.resolve("stories260K").resolve("stories260K.gguf");
        assumeTrue(Files.isRegularFile(file), "needs ../shared/models (stories260K GGUF) beside the repo");
        // dim 64, 5 layers, 8 heads / 4 KV heads of 8, FFN 172, vocab 512; this file carries a
        // separate output.weight: 5 x 9 layer tensors + token_embd + output_norm + output = 48.
        long dim = 64, layers = 5, kvDim = 4 * 8, ffn = 172, vocab = 512;
        long perLayer = dim * dim + 2 * dim * kvDim + dim * dim + 3 * dim * ffn + 2 * dim;
        long expected = 2 * vocab * dim + layers * perLayer + dim;
        ModelSummary summary = ModelSummary.read(file);
        assertEquals(expected, summary.parameterCount());
        assertEquals(Map.of(GgmlType.F32, 48), summary.tensorTypeCounts());
        assertEquals("292.8K", summary.parameterCountText());
    }

    @Test
    void inventoryListsFoundFilesThenMissingCatalogModels(@TempDir Path tmp) throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.write(models.resolve("tiny.gguf"), TestWheels.tinyGguf());
        Files.write(models.resolve("broken.gguf"), new byte[]{'G', 'G', 'U', 'F', 3, 0});
        ModelResolver resolver = new ModelResolver(ModelCatalog.builtIn(),
                new ModelLocations(models, "test", List.of()), null);
        List<ModelInventory.Entry> entries = ModelInventory.list(resolver);
        assertEquals(List.of("broken", "tiny", "smollm2", "stories260k", "stories260k-q8_0", "stories260k-q4_0"),
                entries.stream().map(ModelInventory.Entry::name).toList());
        ModelInventory.Entry broken = entries.get(0);
        assertTrue(broken.summary().isEmpty() && broken.problem().startsWith("unreadable: "), broken.toString());
        ModelInventory.Entry tiny = entries.get(1);
        assertEquals(65_536, tiny.summary().orElseThrow().parameterCount());
        assertEquals("models dir " + models, tiny.where());
        ModelInventory.Entry smol = entries.get(2);
        assertEquals("not downloaded; aether models pull smollm2", smol.problem());
        assertEquals(98_362_432L, smol.sizeBytes());
    }
}
