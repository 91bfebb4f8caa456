package ai.aether.npz;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A NumPy .npz archive (as written by {@code np.savez} or {@code np.savez_compressed}: a zip
 * of {@code NAME.npy} entries), opened for reading one array at a time so that only the arrays
 * asked for are held in memory.
 *
 * <pre>{@code
 * try (NpzFile npz = NpzFile.open(Path.of("kv.npz"))) {
 *     NpyArray keys = npz.get("keys");       // e.g. shape (layers, kvHeads, tokens, headDim)
 * }
 * }</pre>
 */
public final class NpzFile implements Closeable {

    private final Path path;
    private final ZipFile zip;
    private final Map<String, ZipEntry> entries;  // array name (entry name without .npy) -> entry

    private NpzFile(Path path, ZipFile zip, Map<String, ZipEntry> entries) {
        this.path = path;
        this.zip = zip;
        this.entries = entries;
    }

    /** Opens {@code path}; fails with a message naming the file when it is missing or not a zip. */
    public static NpzFile open(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "no such .npz file");
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new NpyFormatException(path + ": not a .npz archive (" + e.getMessage() + ")");
        }
        Map<String, ZipEntry> entries = new LinkedHashMap<>();
        Enumeration<? extends ZipEntry> all = zip.entries();
        while (all.hasMoreElements()) {
            ZipEntry e = all.nextElement();
            if (e.isDirectory()) continue;
            String name = e.getName();
            entries.put(name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name, e);
        }
        return new NpzFile(path, zip, entries);
    }

    /** Reads every array of {@code path} (convenience for small files). */
    public static Map<String, NpyArray> readAll(Path path) throws IOException {
        try (NpzFile npz = open(path)) {
            Map<String, NpyArray> out = new LinkedHashMap<>();
            for (String name : npz.names()) out.put(name, npz.get(name));
            return out;
        }
    }

    public Path path() {
        return path;
    }

    /** Array names in archive order. */
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** Reads array {@code name}; fails naming the file and the arrays it holds when absent. */
    public NpyArray get(String name) throws IOException {
        ZipEntry entry = entries.get(name);
        if (entry == null) {
            throw new NpyFormatException(path + ": no array '" + name + "' (arrays: " + String.join(", ", entries.keySet()) + ")");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            return Npy.read(in, path.getFileName() + ":" + entry.getName());
        } catch (ZipException e) {
            throw new NpyFormatException(path + ":" + entry.getName() + ": corrupt zip entry (" + e.getMessage() + ")");
        }
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
