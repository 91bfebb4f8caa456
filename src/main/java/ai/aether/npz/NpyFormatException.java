package ai.aether.npz;

import java.io.IOException;

/** A .npy or .npz file that cannot be read; the message names the file, the entry and the problem. */
public final class NpyFormatException extends IOException {
    public NpyFormatException(String message) {
        super(message);
    }
}
