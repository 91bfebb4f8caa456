package ai.aether.catalog;

import java.io.IOException;
import java.util.List;

/** No model file for a {@code --model} value; the message lists every place tried, in order. */
public final class ModelNotFoundException extends IOException {
    private final List<String> attempts;

    ModelNotFoundException(String spec, List<String> attempts, String hint) {
        super(message(spec, attempts, hint));
        this.attempts = List.copyOf(attempts);
    }

    /** What was tried, in order, one line each. */
    public List<String> attempts() {
        return attempts;
    }

    private static String message(String spec, List<String> attempts, String hint) {
        StringBuilder text = new StringBuilder("model '").append(spec).append("' not found. Tried, in order:");
        for (int i = 0; i < attempts.size(); i++) text.append("\n  ").append(i + 1).append(". ").append(attempts.get(i));
        return text.append('\n').append(hint).toString();
    }
}
