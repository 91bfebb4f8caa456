package ai.aether.gguf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A GGUF file that cannot be read as one: truncated, corrupt, hostile or of an unsupported
 * version. The message names the file, the field and, where there is one, the allowed range,
 * e.g. {@code model.gguf: tensor 'output.weight' n_dims: 7 is out of range (allowed 1..4)}.
 */
public final class GgufFormatException extends IOException {

    private final transient Path file;
    private final String field;

    public GgufFormatException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
        this.file = file;
        this.field = field;
    }

    /** The file that was being read. */
    public Path file() {
        return file;
    }

    /** The header field, metadata key or tensor field that was wrong. */
    public String field() {
        return field;
    }
}
