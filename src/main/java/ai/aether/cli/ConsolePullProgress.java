package ai.aether.cli;

import ai.aether.catalog.PullListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintWriter;

/** Shows a pull on a console stream (stderr, so stdout stays clean): step lines and a progress bar per stage. */
final class ConsolePullProgress implements PullListener {

    private static final long MEGABYTE = 1_000_000L;

    private static final int BAR_WIDTH = 100;

    private final PrintWriter out;
    private ProgressBar bar; // the running stage's bar, or null between stages
    private Stage barStage;  // the stage the bar shows

    ConsolePullProgress(PrintWriter out) {
        this.out = out;
    }

    @Override
    public synchronized void message(String line) {
        if (line.startsWith("pip: Saved ")) return; // a path inside the pull's private work directory
        if (bar != null) out.println(); // leave the bar's line; it redraws below
        out.println("aether: " + line);
        out.flush();
    }

    @Override
    public synchronized void stageStarted(Stage stage, long totalBytes) {
        closeBar();
        bar = new ProgressBarBuilder()
                .setTaskName(stage == Stage.DOWNLOAD ? "download" : "extract+sha256")
                .setInitialMax(totalBytes)
                .setUnit(" MB", MEGABYTE)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new LineRewritingConsumer(out))
                .showSpeed()
                .build();
        barStage = stage;
    }

    @Override
    public synchronized void progress(Stage stage, long bytesDone) {
        if (bar == null || stage != barStage) return;
        if (bytesDone > bar.getMax()) bar.maxHint(bytesDone); // the wheel size is only an estimate
        bar.stepTo(bytesDone);
    }

    @Override
    public synchronized void stageFinished(Stage stage) {
        closeBar();
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    /** Redraws the bar in place with a carriage return; ends the line when the stage ends. */
    private record LineRewritingConsumer(PrintWriter out) implements ProgressBarConsumer {
        @Override
        public int getMaxRenderedLength() {
            return BAR_WIDTH;
        }

        @Override
        public void accept(String rendered) {
            out.print('\r' + rendered);
            out.flush();
        }

        @Override
        public void close() {
            out.println();
            out.flush();
        }
    }
}
