package ai.aether.catalog;

/** Progress of a pull, for a progress bar. Called from the pulling thread and one poller thread. */
public interface PullListener {

    /** The two long-running stages of a pull. */
    enum Stage { DOWNLOAD, EXTRACT }

    /** A line worth showing: pip's output or a step of the pull. */
    void message(String line);

    /** A stage began; {@code totalBytes} is the expected size (the download's is approximate). */
    void stageStarted(Stage stage, long totalBytes);

    /** Bytes done so far in the current stage. */
    void progress(Stage stage, long bytesDone);

    void stageFinished(Stage stage);

    /** Ignores everything. */
    PullListener SILENT = new PullListener() {
        @Override public void message(String line) { }
        @Override public void stageStarted(Stage stage, long totalBytes) { }
        @Override public void progress(Stage stage, long bytesDone) { }
        @Override public void stageFinished(Stage stage) { }
    };
}
