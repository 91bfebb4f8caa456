package ai.aether.gguf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The real GGUF files under ../shared (models and vocab-only tokenizers); tests skip without them. */
final class SharedFiles {

    static final Path SHARED = Path.of("..", "shared");
    static final Path MODELS = SHARED.resolve("models");
    static final Path TOKENIZERS = SHARED.resolve("tokenizers");

    private SharedFiles() {
    }

    /** A file under ../shared, skipping the test (with the reason) when it is absent. */
    static Path require(Path relative) {
        Path file = SHARED.resolve(relative);
        assumeTrue(Files.isRegularFile(file), () -> "skipped: " + file + " is absent (needs ../shared beside the repo)");
        return file;
    }

    /** Every *.gguf under ../shared/models and ../shared/tokenizers, sorted; skips when there are none. */
    static List<Path> allGgufFiles() throws IOException {
        assumeTrue(Files.isDirectory(SHARED), () -> "skipped: " + SHARED.toAbsolutePath() + " is absent");
        try (Stream<Path> models = Files.walk(MODELS); Stream<Path> vocabs = Files.walk(TOKENIZERS)) {
            List<Path> files = Stream.concat(models, vocabs).filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
            assumeTrue(!files.isEmpty(), "skipped: no .gguf files under ../shared");
            return files;
        }
    }
}
