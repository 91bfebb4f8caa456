package ai.aether.catalog;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A model file that resolution found.
 *
 * @param path   the GGUF file, absolute
 * @param known  the catalog entry it matches by file name, or null for other files
 * @param origin where it was found
 */
public record ResolvedModel(Path path, KnownModel known, Origin origin) {

    /** Where a model file was found; {@link #label} is what {@code models list} prints. */
    public enum Origin {
        FILE("file"), MODELS_DIR("models dir"), SHARED("../shared/models"), PULLED("pulled");

        private final String label;

        Origin(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public ResolvedModel {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(origin, "origin");
        path = path.toAbsolutePath().normalize();
    }

    public Optional<KnownModel> knownModel() {
        return Optional.ofNullable(known);
    }

    /** The catalog name, or the file name without {@code .gguf} for other files. */
    public String displayName() {
        if (known != null) return known.name();
        String file = path.getFileName().toString();
        return file.endsWith(".gguf") ? file.substring(0, file.length() - ".gguf".length()) : file;
    }
}
