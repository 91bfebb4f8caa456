package ai.aether.catalog;

import ai.aether.gguf.GgmlType;
import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufTensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * What {@code models list} shows about a GGUF file, read from its header only.
 *
 * @param architecture     {@code general.architecture}, or "?" when absent
 * @param parameterCount   sum of the element counts of all tensors (tied embeddings count once)
 * @param contextLength    {@code ARCH.context_length}, when present
 * @param tensorTypeCounts number of tensors per storage type
 * @param fileSize         bytes on disk
 */
public record ModelSummary(String architecture, long parameterCount, OptionalLong contextLength,
                           Map<GgmlType, Integer> tensorTypeCounts, long fileSize) {

    public ModelSummary {
        tensorTypeCounts = Map.copyOf(tensorTypeCounts);
    }

    /** Reads the summary; a damaged file gets the GGUF reader's error naming the problem. */
    public static ModelSummary read(Path gguf) throws IOException {
        try (GgufFile file = GgufFile.open(gguf)) {
            String architecture = file.findString("general.architecture").orElse("?");
            long parameters = 0;
            Map<GgmlType, Integer> types = new EnumMap<>(GgmlType.class);
            for (GgufTensorInfo tensor : file.tensors()) {
                parameters = Math.addExact(parameters, tensor.elementCount());
                types.merge(tensor.type(), 1, Integer::sum);
            }
            return new ModelSummary(architecture, parameters, file.findLong(architecture + ".context_length"),
                    types, Files.size(gguf));
        }
    }

    /** "Q4_1 x210, F32 x61, Q8_0 x1": most frequent first, ties by type id; "none" for vocab-only files. */
    public String tensorTypesText() {
        if (tensorTypeCounts.isEmpty()) return "none";
        return tensorTypeCounts.entrySet().stream()
                .sorted(Comparator.<Map.Entry<GgmlType, Integer>>comparingInt(Map.Entry::getValue).reversed()
                        .thenComparingInt(e -> e.getKey().id()))
                .map(e -> e.getKey().name() + " x" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** "134.5M", "260.0K", "1.24B". */
    public String parameterCountText() {
        return humanCount(parameterCount);
    }

    static String humanCount(long count) {
        if (count >= 1_000_000_000L) return String.format(java.util.Locale.ROOT, "%.2fB", count / 1e9);
        if (count >= 1_000_000L) return String.format(java.util.Locale.ROOT, "%.1fM", count / 1e6);
        if (count >= 1_000L) return String.format(java.util.Locale.ROOT, "%.1fK", count / 1e3);
        return Long.toString(count);
    }
}
