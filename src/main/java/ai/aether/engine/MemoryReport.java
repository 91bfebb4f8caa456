package ai.aether.engine;

import ai.aether.model.KvCache;
import ai.aether.model.Model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What a model and its KV cache hold in memory, and the process's peak (SPEC 4: peak memory).
 * AETHER reads fewer KV bytes per step; it does not store fewer: the cache holds every block and,
 * beside them, the per-block metadata the radar reads ({@code metadataBytes}).
 *
 * @param modelFileBytes    the GGUF file, memory-mapped; after loading, the pages of the weights that
 *                          were repacked onto the heap are released (they are read again only if used)
 * @param weightHeapBytes   weights held on the Java heap: the repacked quantised matrices and the norms
 * @param kvBytes           keys and values the cache has allocated
 * @param metadataBytes     AETHER's per-block metadata beside them (0 for a dense cache)
 * @param peakResidentBytes the process's peak resident set size so far (Linux {@code VmHWM}), -1 where
 *                          the operating system does not report it; it includes the JVM itself and
 *                          whatever else the process holds
 */
public record MemoryReport(long modelFileBytes, long weightHeapBytes, long kvBytes, long metadataBytes, long peakResidentBytes) {

    /** The model's and the cache's memory now, with the process's peak resident set so far. */
    public static MemoryReport of(Model model, KvCache cache) {
        return new MemoryReport(model.gguf().fileSize(), model.weights().heapBytes(), cache.kvBytes(), cache.summaryBytes(),
                processPeakResidentBytes());
    }

    /** The peak resident set size of this process in bytes ({@code VmHWM} of /proc/self/status), or -1 when unknown. */
    public static long processPeakResidentBytes() {
        return statusKilobytes(Path.of("/proc/self/status"), "VmHWM:");
    }

    /** A "{@code field   N kB}" line of a /proc status file, in bytes; -1 when the file or the field is missing or unreadable. */
    static long statusKilobytes(Path status, String field) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (!line.startsWith(field)) continue;
                String[] parts = line.substring(field.length()).trim().split("\\s+");
                if (parts.length == 2 && parts[1].equals("kB")) return Long.parseLong(parts[0]) * 1024;
                return -1;
            }
        } catch (IOException | RuntimeException unreadable) {
            // not Linux, or a format this code does not know: report "unknown" rather than a wrong number
        }
        return -1;
    }

    /** One line for the CLI. */
    public String summary() {
        return summary("KV cache");
    }

    /** One line for the CLI, the cache named {@code kvLabel} (e.g. to say that several runs shared it). */
    public String summary(String kvLabel) {
        return String.format(Locale.ROOT, "memory: weights %s on the heap (file %s, mapped) | %s %s%s | %s",
                mib(weightHeapBytes), mib(modelFileBytes), kvLabel, mib(kvBytes),
                metadataBytes > 0 ? " + AETHER metadata " + mib(metadataBytes) : "", "process peak RSS " + peakText(peakResidentBytes));
    }

    /** "N MiB", the process's peak resident set so far, or that the OS does not report it: for tools that hold no model report. */
    public static String processPeakText() {
        return peakText(processPeakResidentBytes());
    }

    private static String peakText(long peak) {
        return peak < 0 ? "not reported by this OS" : mib(peak);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
