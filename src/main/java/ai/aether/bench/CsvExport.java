package ai.aether.bench;

import java.io.IOException;
import java.io.Writer;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** One CSV row per (method, sparsity, seq-len), one column per {@link ResultRow} field, in field order. */
public final class CsvExport {

    private CsvExport() {}

    public static void write(List<ResultRow> rows, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (Writer w = Files.newBufferedWriter(file)) {
            write(rows, w);
        }
    }

    public static void write(List<ResultRow> rows, Writer w) throws IOException {
        RecordComponent[] fields = ResultRow.class.getRecordComponents();
        for (int i = 0; i < fields.length; i++) w.write((i > 0 ? "," : "") + snake(fields[i].getName()));
        w.write('\n');
        for (ResultRow row : rows) {
            for (int i = 0; i < fields.length; i++) {
                Object v;
                try {
                    v = fields[i].getAccessor().invoke(row);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
                w.write((i > 0 ? "," : "") + format(v));
            }
            w.write('\n');
        }
    }

    private static String format(Object v) {
        if (v instanceof Double d) return d.isNaN() ? "" : String.format(Locale.ROOT, "%.6g", d);
        String s = String.valueOf(v);
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }
}
