package ai.aether.catalog;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The rows of {@code models list}: every GGUF found, then catalog models found nowhere. */
public final class ModelInventory {

    /**
     * One model.
     *
     * @param name      catalog name, or the file name without {@code .gguf}
     * @param fileName  GGUF file name
     * @param summary   what the header says; empty when absent or unreadable
     * @param problem   why there is no summary ("not downloaded; ...", or the reader's error); null otherwise
     * @param sizeBytes size on disk, or the catalog's size when not downloaded
     * @param where     "models dir /path", "../shared/models /path", or "-" when not downloaded
     */
    public record Entry(String name, String fileName, Optional<ModelSummary> summary, String problem, long sizeBytes,
                        String where) {
        public boolean present() {
            return !where.equals("-");
        }
    }

    private ModelInventory() {
    }

    public static List<Entry> list(ModelResolver resolver) throws IOException {
        List<Entry> entries = new ArrayList<>();
        Set<String> presentFiles = new HashSet<>();
        for (ResolvedModel found : resolver.scan()) {
            String fileName = found.path().getFileName().toString();
            presentFiles.add(fileName);
            String where = found.origin().label() + " " + found.path().getParent();
            long size = Files.size(found.path());
            try {
                entries.add(new Entry(found.displayName(), fileName, Optional.of(ModelSummary.read(found.path())), null,
                        size, where));
            } catch (IOException e) {
                entries.add(new Entry(found.displayName(), fileName, Optional.empty(), "unreadable: " + e.getMessage(),
                        size, where));
            }
        }
        for (KnownModel known : resolver.catalog().models()) {
            if (presentFiles.contains(known.fileName())) continue;
            entries.add(new Entry(known.name(), known.fileName(), Optional.empty(),
                    "not downloaded; aether models pull " + known.name(), known.sizeBytes(), "-"));
        }
        return entries;
    }
}
