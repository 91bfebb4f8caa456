package ai.aether.cli;

import ai.aether.gguf.GgmlType;
import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufTestWriter;
import ai.aether.gguf.GgufValueType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code aether inspect}: the JSON report agrees with the Python gguf package on every shipped
 * file (fixtures/gguf/*.json from scripts/oracle/gguf_dump.py); verdicts; damaged files.
 */
class InspectCommandTest {

    private static final Path SHARED = Path.of("..", "shared");
    private static final List<String> FIXTURES = List.of(
            "SmolLM2-135M-Instruct.Q4_1.gguf", "stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf",
            "ggml-vocab-deepseek-coder.gguf", "ggml-vocab-falcon.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf",
            "ggml-vocab-phi-3.gguf", "ggml-vocab-refact.gguf", "ggml-vocab-starcoder.gguf");

    @TempDir
    Path directory;

    record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exitCode = commandLine.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    private static JsonNode json(Run run) throws IOException {
        assertEquals(0, run.exitCode(), run.err());
        return new ObjectMapper().readTree(run.out());
    }

    private static JsonNode fixture(String name) throws IOException {
        try (InputStream in = InspectCommandTest.class.getResourceAsStream("/fixtures/gguf/" + name + ".json")) {
            assertNotNull(in, "fixture for " + name);
            return new ObjectMapper().readTree(in);
        }
    }

    private static Path shared(String relative) {
        Path file = SHARED.resolve(relative);
        assumeTrue(Files.isRegularFile(file), () -> "skipped: " + file + " is absent (needs ../shared beside the repo)");
        return file;
    }

    static Stream<String> fixtures() {
        return FIXTURES.stream();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void jsonReportAgreesWithTheGgufPackage(String name) throws Exception {
        JsonNode expected = fixture(name);
        Path file = shared(expected.get("file").asText());
        JsonNode actual;
        try (GgufFile gguf = GgufFile.open(file)) {
            actual = InspectCommand.report(gguf);
        }
        for (String field : List.of("file_size", "version", "alignment", "data_offset", "metadata", "tensors")) {
            assertJsonEquals(expected.get(field), actual.get(field), name + " " + field);
        }
    }

    /** Structural equality where numbers compare by value (Python ints vs Java longs; doubles exactly). */
    private static void assertJsonEquals(JsonNode expected, JsonNode actual, String where) {
        assertNotNull(actual, where + " missing");
        if (expected.isNumber()) {
            assertTrue(actual.isNumber(), where + ": expected a number, got " + actual);
            if (expected.isIntegralNumber() && actual.isIntegralNumber()) {
                assertEquals(expected.bigIntegerValue(), actual.bigIntegerValue(), where);
            } else {
                assertEquals(expected.doubleValue(), actual.doubleValue(), 0.0, where);
            }
        } else if (expected.isArray()) {
            assertEquals(expected.size(), actual.size(), where + " length");
            for (int i = 0; i < expected.size(); i++) assertJsonEquals(expected.get(i), actual.get(i), where + "[" + i + "]");
        } else if (expected.isObject()) {
            List<String> expectedKeys = expected.propertyStream().map(Map.Entry::getKey).sorted().toList();
            List<String> actualKeys = actual.propertyStream().map(Map.Entry::getKey).sorted().toList();
            assertEquals(expectedKeys, actualKeys, where + " keys");
            String label = where + (expected.has("key") ? " '" + expected.get("key").asText() + "'" : "")
                    + (expected.has("name") ? " '" + expected.get("name").asText() + "'" : "");
            for (String key : expectedKeys) assertJsonEquals(expected.get(key), actual.get(key), label + "." + key);
        } else {
            assertEquals(expected, actual, where);
        }
    }

    @Test
    void smolLm2IsRunnableAndSummarised() throws Exception {
        Path file = shared("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
        JsonNode report = json(run("inspect", file.toString(), "--json"));
        assertEquals("supported: llama", report.at("/aether/verdict").asText());
        assertTrue(report.at("/aether/runnable").asBoolean());
        assertEquals("gpt2 (pre-tokenizer smollm)", report.at("/aether/tokenizer").asText());
        // sizes as published in ../shared/models/README.md
        JsonNode sizes = report.at("/aether/hyperparameters");
        assertEquals(List.of(30L, 576L, 1536L, 9L, 3L, 8192L), List.of(sizes.get("layers").asLong(), sizes.get("embedding").asLong(),
                sizes.get("feed_forward").asLong(), sizes.get("heads").asLong(), sizes.get("kv_heads").asLong(), sizes.get("context").asLong()));
        // type counts as published in ../shared/models/README.md
        assertEquals(210, report.at("/tensor_types/Q4_1/tensors").asInt());
        assertEquals(1, report.at("/tensor_types/Q8_0/tensors").asInt());
        assertEquals(61, report.at("/tensor_types/F32/tensors").asInt());
        assertEquals(272, report.get("tensor_count").asInt());
        assertEquals(135e6, report.get("parameters").asDouble(), 1e6);
        long bytes = 0;
        for (JsonNode total : report.get("tensor_types")) bytes += total.get("bytes").asLong();
        assertEquals(report.get("tensor_bytes").asLong(), bytes);
    }

    @Test
    void textReport() {
        Path file = shared("models/stories260K/stories260K.gguf");
        Run run = run("inspect", file.toString());
        assertEquals(0, run.exitCode(), run.err());
        String out = run.out();
        assertTrue(out.contains("version 3, alignment 32"), out);
        assertTrue(out.contains("STRING[512]"), out);
        assertTrue(out.contains("[\"<unk>\", \"<s>\", \"</s>\""), out);
        assertTrue(out.contains("1.0E-5"), "FLOAT32 at float precision: " + out);
        assertTrue(out.matches("(?s).*token_embd\\.weight\\s+F32\\s+64 x 512\\s+131,072.*"), out);
        assertTrue(out.contains("aether      supported: llama"), out);
        assertTrue(out.contains("sizes       layers 5, embedding 64, feed forward 172, heads 8, kv heads 4, context 2048"), out);
    }

    @Test
    void vocabularyOnlyFile() throws Exception {
        Path file = shared("tokenizers/ggml-vocab-falcon.gguf");
        JsonNode report = json(run("inspect", "--json", file.toString()));
        assertEquals("vocabulary only, no tensors", report.at("/aether/verdict").asText());
        assertFalse(report.at("/aether/runnable").asBoolean());
        assertEquals("falcon", report.at("/aether/architecture").asText());
        assertEquals(0, report.get("tensor_count").asInt());
    }

    @Test
    void otherArchitecturesAndTensorTypesAreRefusedWithTheReason() throws Exception {
        Path gemma = directory.resolve("gemma.gguf");
        Files.write(gemma, GgufTestWriter.file(3,
                List.of(new GgufTestWriter.Entry("general.architecture", GgufValueType.STRING, "gemma")),
                List.of(new GgufTestWriter.Tensor("token_embd.weight", GgmlType.F32, 8, 4))));
        JsonNode report = json(run("inspect", "--json", gemma.toString()));
        assertEquals("not supported: architecture 'gemma' (Aether runs llama, qwen2)", report.at("/aether/verdict").asText());

        Path iq = directory.resolve("iq.gguf");
        Files.write(iq, GgufTestWriter.file(3,
                List.of(new GgufTestWriter.Entry("general.architecture", GgufValueType.STRING, "qwen2")),
                List.of(new GgufTestWriter.Tensor("blk.0.ffn_up.weight", GgmlType.IQ2_XXS, 256, 2))));
        report = json(run("inspect", "--json", iq.toString()));
        assertTrue(report.at("/aether/verdict").asText().startsWith("not supported: tensor types [IQ2_XXS] have no Aether kernel"),
                report.at("/aether/verdict").asText());

        Path anonymous = directory.resolve("anonymous.gguf");
        Files.write(anonymous, GgufTestWriter.file(2, List.of(), List.of(new GgufTestWriter.Tensor("w", GgmlType.F16, 4))));
        report = json(run("inspect", "--json", anonymous.toString()));
        assertEquals("not supported: no general.architecture key", report.at("/aether/verdict").asText());
    }

    @Test
    void damagedAndMissingFilesFailWithTheReadersMessage() throws Exception {
        Path original = shared("models/stories260K/stories260K-Q8_0.gguf");
        Path damaged = directory.resolve("damaged.gguf");
        byte[] bytes = Files.readAllBytes(original);
        Files.write(damaged, Arrays.copyOf(bytes, bytes.length - 1000));
        Run run = run("inspect", damaged.toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().startsWith("aether inspect: " + damaged + ": tensor '"), run.err());
        assertTrue(run.err().contains("outside"), run.err());
        assertEquals("", run.out());

        Path nowhere = directory.resolve("nope.gguf");
        Run missing = run("inspect", nowhere.toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("no such file: " + nowhere), missing.err());
    }
}
