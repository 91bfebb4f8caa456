package ai.aether.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code aether tokenize} against ids from the Python oracle (fixtures/tokenizer/*.json). */
class TokenizeCommandTest {
    private static final Path SMOLLM2 = Path.of("..", "shared", "models", "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf");
    private static final Path LLAMA_SPM = Path.of("..", "shared", "tokenizers", "ggml-vocab-llama-spm.gguf");

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static void requireShared(Path file) {
        assumeTrue(Files.isRegularFile(file), () -> file + " is absent (the shared data directory is not beside the repository)");
    }

    @Test
    void idsOnlyOnOneLine() {
        requireShared(SMOLLM2);
        // oracle ids: "Hello, World! How are you?" in SmolLM2-135M-Instruct.Q4_1.json
        Run run = run("tokenize", "--model", SMOLLM2.toString(), "--prompt", "Hello, World! How are you?", "--ids");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("19556 28 2260 17 1073 359 346 47\n", run.out());
    }

    @Test
    void piecesWithIdsAndSpecialParsing() {
        requireShared(SMOLLM2);
        // oracle ids for "<|im_start|>user\nHi": chat_templates.json (1 4093 198 26843 ...)
        Run run = run("tokenize", "--model", SMOLLM2.toString(), "--prompt", "<|im_start|>user\nHi", "--special");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("1\t'<|im_start|>'\n4093\t'user'\n198\t'\\n'\n26843\t'Hi'\n", run.out());
        Run plain = run("tokenize", "--model", SMOLLM2.toString(), "--prompt", "<|im_start|>", "--ids");
        assertTrue(!plain.out().startsWith("1 ") && !plain.out().equals("1\n"), "without --special the text is not the token: " + plain.out());
    }

    @Test
    void partialUtf8PiecesShowAsBytes() {
        requireShared(SMOLLM2);
        // oracle ids for "🦙 llamas": the emoji is split across byte-level tokens 10813 116 243
        Run run = run("tokenize", "--model", SMOLLM2.toString(), "--prompt", "🦙 llamas");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("10813\t'\\xf0\\x9f'\n116\t'\\xa6'\n243\t'\\x99'\n303\t' l'\n4130\t'lam'\n292\t'as'\n", run.out());
    }

    @Test
    void bosFollowsTheFileUnlessNoBos() {
        requireShared(LLAMA_SPM);
        Run withBos = run("tokenize", "--model", LLAMA_SPM.toString(), "--prompt", "Hello world", "--ids");
        assertEquals("1 15043 3186\n", withBos.out(), withBos.err());
        Run noBos = run("tokenize", "--model", LLAMA_SPM.toString(), "--prompt", "Hello world", "--ids", "--no-bos");
        assertEquals("15043 3186\n", noBos.out(), noBos.err());
    }

    @Test
    void fileIsTakenVerbatim(@TempDir Path dir) throws IOException {
        requireShared(SMOLLM2);
        Path file = dir.resolve("prompt.txt");
        Files.write(file, "  a\n\n".getBytes(StandardCharsets.UTF_8));
        Run fromFile = run("tokenize", "--model", SMOLLM2.toString(), "--file", file.toString(), "--ids");
        Run fromPrompt = run("tokenize", "--model", SMOLLM2.toString(), "--prompt", "  a\n\n", "--ids");
        assertEquals(0, fromFile.exitCode(), fromFile.err());
        assertEquals(fromPrompt.out(), fromFile.out());
    }

    @Test
    void clearErrors(@TempDir Path dir) throws IOException {
        Run missingModel = run("tokenize", "--model", dir.resolve("none.gguf").toString(), "--prompt", "x");
        assertEquals(1, missingModel.exitCode());
        assertTrue(missingModel.err().contains("none.gguf: no such model file"), missingModel.err());

        Path notGguf = dir.resolve("notes.txt");
        Files.writeString(notGguf, "not a model");
        Run wrongFile = run("tokenize", "--model", notGguf.toString(), "--prompt", "x");
        assertEquals(1, wrongFile.exitCode());
        assertTrue(wrongFile.err().contains("notes.txt"), wrongFile.err());

        Path notUtf8 = dir.resolve("bad.txt");
        Files.write(notUtf8, new byte[] {(byte) 0xC3, (byte) 0x28});
        requireShared(SMOLLM2);
        Run badFile = run("tokenize", "--model", SMOLLM2.toString(), "--file", notUtf8.toString());
        assertEquals(1, badFile.exitCode());
        assertTrue(badFile.err().contains("bad.txt") && badFile.err().contains("UTF-8"), badFile.err());

        Run both = run("tokenize", "--model", SMOLLM2.toString(), "--prompt", "x", "--file", notUtf8.toString());
        assertEquals(2, both.exitCode());
        assertTrue(both.err().contains("mutually exclusive"), both.err());
    }
}
