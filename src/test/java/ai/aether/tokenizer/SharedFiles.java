package ai.aether.tokenizer;

import ai.aether.gguf.GgufFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The GGUF files in ../shared and the oracle fixtures made from them (scripts/oracle/tokenizer_fixtures.py). */
final class SharedFiles {
    static final Path SHARED = Path.of("..", "shared");
    static final String GPT2_VOCAB = "tokenizers/ggml-vocab-gpt-2.gguf";
    static final String SMOLLM2 = "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";
    static final String STORIES = "models/stories260K/stories260K.gguf";
    static final String[] FIXTURES = {
            "ggml-vocab-deepseek-coder", "ggml-vocab-falcon", "ggml-vocab-gpt-2", "ggml-vocab-llama-spm",
            "ggml-vocab-phi-3", "ggml-vocab-refact", "ggml-vocab-starcoder", "stories260K", "SmolLM2-135M-Instruct.Q4_1"};

    private SharedFiles() {
    }

    /** The file under ../shared, or a skipped test saying it is absent. */
    static Path require(String relative) {
        Path path = SHARED.resolve(relative);
        assumeTrue(Files.isRegularFile(path), () -> path + " is absent (the shared data directory is not beside the repository)");
        return path;
    }

    static Vocabulary vocabulary(String relative) {
        try (GgufFile gguf = GgufFile.open(require(relative))) {
            return Vocabulary.fromGguf(gguf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tokenizer tokenizer(String relative) {
        return Tokenizer.create(vocabulary(relative));
    }

    static JsonNode fixture(String name) {
        try (InputStream in = SharedFiles.class.getResourceAsStream("/fixtures/tokenizer/" + name + ".json")) {
            if (in == null) throw new IllegalStateException("fixture " + name + ".json is missing from src/test/resources/fixtures/tokenizer");
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = array.get(i).asInt();
        return ids;
    }

    /** The same vocabulary read as another pre-tokenizer family. */
    static Vocabulary withPreTokenizer(Vocabulary v, String pre) {
        return new Vocabulary(v.model(), pre, v.tokens(), v.scores(), v.tokenTypes(), v.merges(), v.bosId(), v.eosId(),
                v.unknownId(), v.paddingId(), v.addBos(), v.addEos(), v.addSpacePrefix(), v.chatTemplate());
    }
}
