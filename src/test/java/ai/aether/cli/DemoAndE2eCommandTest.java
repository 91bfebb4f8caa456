package ai.aether.cli;

import ai.aether.model.SharedModels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code aether e2e} and {@code aether demo} as a user runs them (stories260K for speed; SmolLM2 when present). */
class DemoAndE2eCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    private PrintStream savedOut, savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out; savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut); System.setErr(savedErr);
    }

    private int run(String... args) {
        var commandLine = Main.commandLine();
        commandLine.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
        return commandLine.execute(args);
    }

    @Test
    void e2eComparesDenseAndAetherFromOnePrefill() {
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        String prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside. ".repeat(6);
        int code = run("e2e", "--model", model, "--prompt", prompt, "--no-chat", "--compare-baseline", "--max-tokens", "16",
                "--block-size", "16", "--min-seq-length", "0", "--min-kept-tokens", "0", "--target-sparsity", "0.5", "--local-window", "1", "--threads", "2");
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(stdout.contains("--- dense answer ---") && stdout.contains("--- AETHER answer ---"), stdout);
        assertTrue(stdout.matches("(?s).*block sparsity\\s+0\\.0%\\s+[1-9][0-9.]*%.*"), "dense 0%, AETHER above 0: " + stdout);
        assertTrue(stdout.contains("AETHER vs dense:") && stdout.contains("decode speedup"), stdout);
        assertTrue(stdout.contains("KV cache (one, shared by every run)") && stdout.contains("AETHER metadata"), stdout);
    }

    @Test
    void e2eDumpsTheKvCacheForTheBench() throws Exception {
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        java.nio.file.Path dump = java.nio.file.Files.createTempFile("aether-e2e", ".npz");
        try {
            String prompt = "Once upon a time, there was a little girl named Lily. ".repeat(4);
            int code = run("e2e", "--model", model, "--prompt", prompt, "--no-chat", "--max-tokens", "4", "--dump-kv", dump.toString());
            assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
            var source = new ai.aether.bench.NpzKvSource(dump);
            var snapshot = source.load(4, 20);
            assertEquals(4, snapshot.kvHeads(), "stories260K: 4 KV heads");
            assertEquals(8, snapshot.queryHeads());
            assertEquals(8, snapshot.headDim());
            out.reset();
            code = run("bench", "--kv-file", dump.toString(), "--seq-len", "48", "--block-size", "16", "--reps", "1", "--warmup", "0",
                    "--no-progress");
            assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        } finally {
            java.nio.file.Files.deleteIfExists(dump);
        }
    }

    @Test
    void badConfigurationNamesTheField() {
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        int code = run("e2e", "--model", model, "--prompt", "Hello", "--target-sparsity", "1.5");
        assertNotEquals(0, code);
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertTrue(stderr.contains("targetSparsity") && stderr.contains("[0, 1)"), stderr);
        assertTrue(!stderr.contains("\tat "), "no stack trace: " + stderr);
    }

    /** The README's main command on the real model, shortened (the default prompt is 4K tokens). Needs ../shared/models. */
    @Test
    void demoRunsOnSmolLm2() {
        SharedModels.require(SharedModels.SMOLLM2_Q4_1);
        int code = run("demo", "--prompt-tokens", "700", "--max-tokens", "6", "--min-seq-length", "64");
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(stdout.contains("model: smollm2") && stdout.contains("answer mentions \"kitchen\""), stdout);
        assertTrue(stdout.contains("--- AETHER key sketch answer ---") && stdout.contains("AETHER key sketch vs dense:"),
                "without --score the demo also shows the key-sketch estimator: " + stdout);
        assertTrue(stdout.contains("score QUANTIZED_BOX") && stdout.contains("score KEY_SKETCH"), stdout);
    }
}
