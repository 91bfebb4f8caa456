package ai.aether.npz;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a .npz archive that {@code np.load} reads: one stored (uncompressed, like
 * {@code np.savez}) zip entry {@code NAME.npy} per array; zip64 is used automatically past 4 GiB.
 *
 * <pre>{@code
 * try (NpzWriter npz = new NpzWriter(Path.of("kv.npz"))) {
 *     npz.add("keys", NpyArray.ofFloat16(keys, layers, kvHeads, tokens, headDim));
 * }
 * }</pre>
 */
public final class NpzWriter implements Closeable {

    private final ZipOutputStream zip;
    private final Set<String> written = new HashSet<>();

    public NpzWriter(Path path) throws IOException {
        OutputStream file = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
        this.zip = new ZipOutputStream(file);
        this.zip.setMethod(ZipOutputStream.STORED);
    }

    /** Adds array {@code name} (letters, digits, '_', '-', '.', '/'; unique within the archive). */
    public void add(String name, NpyArray array) throws IOException {
        if (name == null || name.isEmpty() || !name.matches("[A-Za-z0-9_./-]+")) {
            throw new IllegalArgumentException("array name must be non-empty and use only [A-Za-z0-9_./-], got '" + name + "'");
        }
        if (!written.add(name)) throw new IllegalArgumentException("array '" + name + "' was already added");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, Npy.encodedLength(array)));
        Npy.write(array, bytes);
        byte[] encoded = bytes.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(encoded);
        ZipEntry entry = new ZipEntry(name + ".npy");
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(encoded.length);
        entry.setCompressedSize(encoded.length);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(encoded);
        zip.closeEntry();
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
