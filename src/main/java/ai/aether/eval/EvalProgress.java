package ai.aether.eval;

/** Progress of a long evaluation: the CLI shows it as a progress bar; tests pass {@link #NONE}. */
public interface EvalProgress {
    EvalProgress NONE = new EvalProgress() {
        @Override public void begin(String task, long total) {}
        @Override public void advance(String detail) {}
    };

    /** A task of {@code total} units starts. */
    void begin(String task, long total);

    /** One unit is done; {@code detail} says what it was. */
    void advance(String detail);
}
