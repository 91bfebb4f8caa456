package ai.aether.catalog;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The directories model resolution searches, in order: the models directory (where
 * {@code models pull} writes), then the project's {@code ../shared/models} copies when present.
 *
 * @param modelsDir       the user's models directory; need not exist yet
 * @param modelsDirOrigin how it was chosen, for messages ({@code --models-dir}, {@code AETHER_MODELS_DIR} or default)
 * @param sharedDirs      candidate {@code ../shared/models} directories, absolute, possibly absent
 */
public record ModelLocations(Path modelsDir, String modelsDirOrigin, List<Path> sharedDirs) {

    /** Environment variable that overrides the default models directory. */
    public static final String MODELS_DIR_ENV = "AETHER_MODELS_DIR";

    public ModelLocations {
        Objects.requireNonNull(modelsDir, "modelsDir");
        Objects.requireNonNull(modelsDirOrigin, "modelsDirOrigin");
        modelsDir = modelsDir.toAbsolutePath().normalize();
        sharedDirs = sharedDirs.stream().map(p -> p.toAbsolutePath().normalize()).distinct().toList();
    }

    /**
     * The standard locations: {@code modelsDirFlag} if given, else {@code $AETHER_MODELS_DIR},
     * else {@code ~/.cache/aether/models}; shared copies at {@code ../shared/models} relative to
     * the working directory and to the Aether jar (or class directory) location.
     */
    public static ModelLocations standard(Path modelsDirFlag) {
        return standard(modelsDirFlag, System.getenv(), Path.of(""), codeLocation());
    }

    /** {@link #standard(Path)} with every input explicit (tests). {@code codeLocation} may be null. */
    public static ModelLocations standard(Path modelsDirFlag, Map<String, String> environment, Path workingDir,
                                          Path codeLocation) {
        Path modelsDir;
        String origin;
        String fromEnv = environment.get(MODELS_DIR_ENV);
        if (modelsDirFlag != null) {
            modelsDir = modelsDirFlag;
            origin = "--models-dir";
        } else if (fromEnv != null && !fromEnv.isBlank()) {
            modelsDir = Path.of(fromEnv);
            origin = MODELS_DIR_ENV;
        } else {
            modelsDir = Path.of(System.getProperty("user.home"), ".cache", "aether", "models");
            origin = "default; override with --models-dir or " + MODELS_DIR_ENV;
        }
        List<Path> shared = new ArrayList<>();
        for (Path root : sharedRoots(workingDir, codeLocation)) shared.add(root.resolve("models"));
        return new ModelLocations(modelsDir, origin, shared);
    }

    /**
     * Where a {@code shared} directory beside the checkout may be (models, data): {@code ../shared}
     * relative to the working directory and to the Aether jar (or class directory), whether or not
     * they exist.
     */
    public static List<Path> sharedRoots() {
        return sharedRoots(Path.of(""), codeLocation());
    }

    private static List<Path> sharedRoots(Path workingDir, Path codeLocation) {
        Set<Path> roots = new LinkedHashSet<>();
        roots.add(workingDir.resolve("..").resolve("shared"));
        if (codeLocation != null) {
            // jar: REPO/target/aether-all.jar; classes: REPO/target/classes. Either way REPO is two up.
            Path target = codeLocation.toAbsolutePath().getParent();
            Path repo = target == null ? null : target.getParent();
            if (repo != null) roots.add(repo.resolve("..").resolve("shared"));
        }
        return new ArrayList<>(roots);
    }

    /** The shared directories that exist now. */
    public List<Path> presentSharedDirs() {
        return sharedDirs.stream().filter(Files::isDirectory).toList();
    }

    private static Path codeLocation() {
        try {
            var source = ModelLocations.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return null; // unusual class loader: the working-directory candidate still applies
        }
    }
}
