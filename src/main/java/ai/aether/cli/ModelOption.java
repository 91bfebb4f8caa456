package ai.aether.cli;

import ai.aether.catalog.ModelResolver;
import ai.aether.catalog.ResolvedModel;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code --model} and {@code --models-dir} options, shared by every command that loads a
 * model. Use as {@code @Mixin ModelOption model;} then {@code model.resolve()} (when
 * {@code --model} is required) or {@code model.resolveOr("smollm2")} (with a default). A
 * fetchable model that is nowhere on disk is pulled, with progress on stderr.
 */
public final class ModelOption {

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "GGUF file, or a model name (smollm2, stories260k, ...; see `aether models list`). "
                    + "Names are looked up in the models directory, then ../shared/models; smollm2 is pulled when missing.")
    String model;

    @Option(names = "--models-dir", paramLabel = "DIR",
            description = "models directory (default: $AETHER_MODELS_DIR, else ~/.cache/aether/models)")
    Path modelsDir;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The {@code --model} value as given. */
    public Optional<String> model() {
        return Optional.ofNullable(model);
    }

    /** The {@code --models-dir} value, or null when not given. */
    public Path modelsDirFlag() {
        return modelsDir;
    }

    /** A resolver over the standard locations that reports pulls on the command's stderr. */
    public ModelResolver resolver() {
        return resolver(modelsDir, err());
    }

    /**
     * For commands that take the model another way (a positional FILE): standard locations,
     * {@code modelsDirFlag} may be null, pull progress on {@code err}.
     */
    public static ModelResolver resolver(Path modelsDirFlag, PrintWriter err) {
        return ModelResolver.standard(modelsDirFlag, new ConsolePullProgress(err));
    }

    /** Resolves {@code --model}, which is then required. */
    public ResolvedModel resolve() throws IOException {
        if (model == null)
            throw new IllegalArgumentException("--model is required: a GGUF file or a model name (see `aether models list`)");
        return resolver().resolve(model);
    }

    /** Resolves {@code --model}, or {@code defaultName} when it was not given. */
    public ResolvedModel resolveOr(String defaultName) throws IOException {
        return resolver().resolve(model != null ? model : defaultName);
    }

    private PrintWriter err() {
        return mixee != null ? mixee.commandLine().getErr() : new PrintWriter(System.err, true);
    }
}
