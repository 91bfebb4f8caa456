package ai.aether.cli;

import ai.aether.model.SharedModels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code aether generate} and {@code aether chat} on stories260K, through picocli as a user runs them. */
class GenerateAndChatCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    private PrintStream savedOut, savedErr;
    private InputStream savedIn;

    @BeforeEach
    void capture() {
        savedOut = System.out; savedErr = System.err; savedIn = System.in;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut); System.setErr(savedErr); System.setIn(savedIn);
    }

    private int run(String... args) {
        var commandLine = Main.commandLine();
        commandLine.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
        return commandLine.execute(args);
    }

    @Test
    void generateStreamsTheStoryAndPrintsSpeed() {
        String model = SharedModels.require(SharedModels.STORIES_Q8_0).toString();
        int code = run("generate", "--model", model, "--prompt", "Once upon a time,", "--temperature", "0", "--max-tokens", "12", "--threads", "2");
        String stdout = out.toString(StandardCharsets.UTF_8), stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, stderr);
        assertTrue(stdout.startsWith(" there was a little girl named Lily"), stdout);
        assertTrue(stderr.contains("tok/s") && stderr.contains("time to first token") && stderr.contains("generation: 12 tokens"), stderr);
    }

    /** INT8 KV, named in lower case as users type it; the story's greedy start survives int8 keys and values. */
    @Test
    void generateWithInt8KvGivesTheSameStoryStart() {
        String model = SharedModels.require(SharedModels.STORIES_Q8_0).toString();
        int code = run("generate", "--model", model, "--kv", "int8", "--prompt", "Once upon a time,", "--temperature", "0", "--max-tokens", "12");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith(" there was a little girl named Lily"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void chatAnswersEachLineUntilExit() {
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        System.setIn(new ByteArrayInputStream("Tell me a story\nAnd another\n/exit\n".getBytes(StandardCharsets.UTF_8)));
        int code = run("chat", "--model", model, "--max-tokens", "8", "--seed", "3");
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, stderr);
        assertEquals(2, stderr.split("time to first token", -1).length - 1, "one timing line per reply: " + stderr);
        assertTrue(out.toString(StandardCharsets.UTF_8).chars().filter(c -> c == '>').count() >= 3);
    }

    @Test
    void badInputGivesOneClearLine() {
        int code = run("generate", "--model", "no/such/model.gguf", "--prompt", "x");
        assertEquals(1, code);
        String missing = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(missing.startsWith("aether generate: model 'no/such/model.gguf' not found. Tried, in order:")
                && missing.contains("model.gguf: does not exist") && !missing.contains("\tat "), missing);
        err.reset();
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        code = run("generate", "--model", model, "--prompt", "x", "--top-p", "1.5");
        assertEquals(1, code);
        assertEquals("aether generate: top-p must be in (0, 1], got 1.5", err.toString(StandardCharsets.UTF_8).strip());
    }
}
