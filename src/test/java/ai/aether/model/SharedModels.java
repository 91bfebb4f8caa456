package ai.aether.model;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Locates the real models in ../shared/models (beside the repository); tests skip when absent. */
public final class SharedModels {
    public static final Path DIR = Path.of("..", "shared", "models");
    public static final Path STORIES_F32 = DIR.resolve("stories260K/stories260K.gguf");
    public static final Path STORIES_Q8_0 = DIR.resolve("stories260K/stories260K-Q8_0.gguf");
    public static final Path STORIES_Q4_0 = DIR.resolve("stories260K/stories260K-Q4_0.gguf");
    public static final Path SMOLLM2_Q4_1 = DIR.resolve("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");

    private SharedModels() {}

    /** The path, or a skipped test saying which file is missing. */
    public static Path require(Path model) {
        assumeTrue(Files.isRegularFile(model), () -> "skipped: " + model + " is absent (../shared/models not beside the repository)");
        return model;
    }
}
