package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.GroupCombine;
import ai.aether.attention.RadarScore;
import ai.aether.attention.SelectionMode;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide.Setting;
import ai.aether.model.ContiguousKvCache;
import ai.aether.model.SharedModels;
import ai.aether.npz.NpyArray;
import ai.aether.npz.NpzFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code aether eval} as a user runs it (stories260K), its settings grammar, and {@code generate --dump-kv}. */
class EvalCommandTest {
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

    /** The shared AETHER flags as picocli parses them. */
    private static AetherOptions flags(String... args) {
        AetherOptions options = new AetherOptions();
        new CommandLine(options).parseArgs(args);
        return options;
    }

    @Test
    void settingsDefaultToTwoTargetSparsitiesOrTheSelectionTheFlagsPick() {
        List<Setting> defaults = EvalSettings.resolve(flags(), List.of(), List.of());
        assertEquals(List.of("dense", "aether-0.80", "aether-0.90"), defaults.stream().map(Setting::name).toList());
        assertEquals(null, defaults.get(0).config());
        assertEquals(0.9, defaults.get(2).config().targetSparsity());

        List<Setting> certified = EvalSettings.resolve(flags("--epsilon", "0.05", "--local-window", "2"), List.of(), List.of());
        assertEquals(2, certified.size());
        assertEquals(SelectionMode.CERTIFIED, certified.get(1).config().selection());
        assertEquals(0.05, certified.get(1).config().epsilon());
        assertEquals(2, certified.get(1).config().localWindow());

        List<Setting> listed = EvalSettings.resolve(flags("--sink-blocks", "2"), List.of(0.5), List.of());
        assertEquals(List.of("dense", "aether-0.50"), listed.stream().map(Setting::name).toList());
        assertEquals(2, listed.get(1).config().sinkBlocks(), "shared flags apply to every setting");
    }

    @Test
    void theEvaluationTextSaysWhereItCameFrom(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.txt");
        Files.writeString(file, "some text");
        EvalCommand.EvalText given = EvalCommand.readText(file);
        assertEquals("some text", given.content());
        assertEquals(file.toString(), given.source());
        EvalCommand.EvalText standard = EvalCommand.readText(null);
        Path shared = Path.of("..", "shared", "data", "tinyshakespeare.txt");
        if (Files.isRegularFile(shared)) {
            // Found beside the checkout (tests run in it), never silently replaced by the excerpt.
            assertTrue(standard.source().endsWith("tinyshakespeare.txt"), standard.source());
            assertEquals(Files.readString(shared), standard.content());
        } else {
            assertTrue(standard.source().contains("excerpt"), standard.source());
        }
        assertThrows(java.io.IOException.class, () -> EvalCommand.readText(dir.resolve("absent.txt")));
    }

    @Test
    void aSettingSpecOverridesTheSharedFlags() {
        AetherConfig base = flags("--local-window", "3", "--block-size", "32").config();
        Setting s = EvalSettings.parse("sparsity=0.9,window=1,sinks=0,score=shrunk-box,combine=max,dense-layers=0:2,min-seq=64,min-kept=0,name=w1", base);
        assertEquals("w1", s.name());
        AetherConfig c = s.config();
        assertEquals(SelectionMode.TARGET_SPARSITY, c.selection());
        assertEquals(0.9, c.targetSparsity());
        assertEquals(1, c.localWindow());
        assertEquals(0, c.sinkBlocks());
        assertEquals(RadarScore.SHRUNK_BOX, c.radarScore());
        assertEquals(GroupCombine.MAX, c.groupCombine());
        assertEquals(Set.of(0, 2), c.denseLayers());
        assertEquals(64, c.minSeqLength());
        assertEquals(0, c.minKeptTokens());
        assertEquals(768, base.minKeptTokens(), "the default floor");
        assertEquals(2048, flags("--min-kept-tokens", "2048").config().minKeptTokens());
        assertEquals(32, c.blockSize(), "block size stays the shared one");
        assertEquals(ai.aether.attention.LayerBudgets.CALIBRATED, c.layerBudgets(), "the default");
        assertEquals(ai.aether.attention.LayerBudgets.UNIFORM, EvalSettings.parse("budgets=uniform", base).config().layerBudgets());
        assertEquals(ai.aether.attention.LayerBudgets.UNIFORM, flags("--layer-budgets", "UNIFORM").config().layerBudgets());

        assertEquals(SelectionMode.TOP_K, EvalSettings.parse("top-k=8", base).config().selection());
        assertEquals(SelectionMode.CERTIFIED, EvalSettings.parse("epsilon=0.1", base).config().selection());
        assertEquals("aether threshold=0.01", EvalSettings.parse("threshold=0.01", base).name());
        List<Setting> both = EvalSettings.resolve(flags(), List.of(0.8), List.of("sparsity=0.8,window=1"));
        assertEquals(List.of("dense", "aether-0.80", "aether sparsity=0.8,window=1"), both.stream().map(Setting::name).toList());
    }

    @Test
    void badSettingsNameTheProblem() {
        AetherConfig base = AetherConfig.defaults();
        assertEquals("--setting 'sparsity=1.5': targetSparsity must be in [0, 1), got 1.5",
                assertThrows(IllegalArgumentException.class, () -> EvalSettings.parse("sparsity=1.5", base)).getMessage());
        assertTrue(message(() -> EvalSettings.parse("windows=2", base)).startsWith("--setting 'windows=2': windows is not a setting key; keys: name,"));
        assertTrue(message(() -> EvalSettings.parse("window=two", base)).endsWith("window must be an integer, got 'two'"));
        assertTrue(message(() -> EvalSettings.parse("score=best", base)).contains("score must be one of [BASIC,"));
        assertTrue(message(() -> EvalSettings.parse("block-size=32", base)).contains("cannot differ between settings"));
        assertTrue(message(() -> EvalSettings.parse("sparsity=0.8,epsilon=0.1", base)).contains("picks CERTIFIED but an earlier key picked TARGET_SPARSITY"));
        assertTrue(message(() -> EvalSettings.parse("sparsity", base)).contains("'sparsity' is not key=value"));
        assertEquals("--sparsities entries must be in [0, 1), got 1.2", message(() -> EvalSettings.resolve(flags(), List.of(1.2), List.of())));
        assertTrue(message(() -> EvalSettings.resolve(flags(), List.of(), List.of("name=x,sparsity=0.5", "name=x,sparsity=0.6"))).contains("two settings are named 'x'"));
        assertTrue(message(() -> EvalSettings.resolve(flags("--dense"), List.of(), List.of())).contains("--dense does not apply to eval"));
    }

    private static String message(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    @Test
    void passkeyWritesTableCsvAndOneHeatMapPerSetting(@TempDir Path dir) throws Exception {
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        Path csv = dir.resolve("passkey.csv");
        int code = run("eval", "passkey", "--model", model, "--lengths", "256,512", "--depths", "0,1", "--trials", "1", "--sparsities", "0.5",
                "--setting", "top-k=0,window=1,name=tiny", "--block-size", "16", "--min-seq-length", "0", "--csv", csv.toString(),
                "--out", dir.toString(), "--no-progress", "--threads", "2");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        String stdout = out.toString(StandardCharsets.UTF_8);
        for (String name : List.of("dense: accuracy", "aether-0.50: accuracy", "tiny: accuracy")) assertTrue(stdout.contains(name), stdout);
        assertTrue(stdout.contains("process peak RSS: "), "the peak memory under the table: " + stdout);
        List<String> rows = Files.readAllLines(csv);
        assertEquals(1 + 3 * 2 * 2, rows.size(), "header + settings x lengths x depths x trials");
        assertTrue(rows.get(0).startsWith("setting,context_length,depth,trial,key,correct,sparsity"), rows.get(0));
        for (String png : List.of("passkey-dense.png", "passkey-aether-0.50.png", "passkey-tiny.png")) {
            assertTrue(Files.size(dir.resolve(png)) > 1000, png);
        }
        double tinySparsity = rows.stream().filter(r -> r.startsWith("tiny,512,")).mapToDouble(r -> Double.parseDouble(r.split(",")[6])).min().orElseThrow();
        assertTrue(tinySparsity > 0.5, "top-0 with a 1-block window skips most of 32 blocks: " + tinySparsity);
    }

    @Test
    void perplexityAndAgreementRunOnATextFile(@TempDir Path dir) throws Exception {
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        Path text = dir.resolve("story.txt");
        Files.writeString(text, "Once upon a time, there was a little girl named Lily. She loved to play outside with her ball. ".repeat(12));
        int code = run("eval", "perplexity", "--model", model, "--text", text.toString(), "--window", "96", "--scored-tokens", "8",
                "--windows", "2", "--sparsities", "0.5", "--block-size", "16", "--min-seq-length", "0", "--out", dir.toString(), "--no-progress");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertTrue(stdout.matches("(?s).*dense\\s+16\\s+[0-9.]+\\s+\\+0\\.00%\\s+0\\.0%.*"), "16 scored tokens, dense sparsity 0: " + stdout);
        assertTrue(Files.size(dir.resolve("perplexity.png")) > 1000);
        out.reset();
        Path csv = dir.resolve("agreement.csv");
        code = run("eval", "agreement", "--model", model, "--text", text.toString(), "--prompts", "2", "--prompt-tokens", "100", "--steps", "6",
                "--sparsities", "0.5", "--block-size", "16", "--min-seq-length", "0", "--csv", csv.toString(), "--out", dir.toString(), "--no-progress");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertEquals(1 + 2, Files.readAllLines(csv).size(), "one row per prompt for the one AETHER setting");
        assertTrue(Files.size(dir.resolve("agreement.png")) > 1000);
    }

    @Test
    void badEvalFlagsFailBeforeTheModelLoads() {
        assertEquals(1, run("eval", "passkey", "--model", "no/such/model.gguf", "--depths", "0,1.5"));
        assertEquals("aether eval passkey: --depths entries must be in [0, 1], got 1.5", err.toString(StandardCharsets.UTF_8).strip());
        err.reset();
        assertEquals(1, run("eval", "perplexity", "--model", "no/such/model.gguf", "--window", "64", "--scored-tokens", "64"));
        assertEquals("aether eval perplexity: --window must exceed --scored-tokens (64), got 64", err.toString(StandardCharsets.UTF_8).strip());
        err.reset();
        assertEquals(1, run("eval", "agreement", "--model", "no/such/model.gguf", "--setting", "sparsity=0.8,selection=SOMETIMES"));
        assertTrue(err.toString(StandardCharsets.UTF_8).strip().startsWith("aether eval agreement: --setting 'sparsity=0.8,selection=SOMETIMES': "
                + "selection must be one of [THRESHOLD, TOP_K, TARGET_SPARSITY, CERTIFIED]"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        String model = SharedModels.require(SharedModels.STORIES_F32).toString();
        assertEquals(1, run("eval", "passkey", "--model", model, "--lengths", "100000"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("context length 100000 exceeds the model's 2048"), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * The dump of a greedy generation against an independent capture: the same token ids prefilled
     * afresh into a plain fp16 cache (as generate's), the post-RoPE keys and queries taken from the forward pass's
     * activations.
     */
    @Test
    void generateDumpsTheKvCacheOfPromptAndOutput(@TempDir Path dir) throws Exception {
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        Path dump = dir.resolve("kv.npz");
        String prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside. ".repeat(3);
        int code = run("generate", "--model", model.toString(), "--prompt", prompt, "--temperature", "0", "--max-tokens", "6",
                "--block-size", "16", "--dump-kv", dump.toString());
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        Map<String, NpyArray> arrays = NpzFile.readAll(dump);
        int[] ids = arrays.get("token_ids").toIntArray();
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            int[] promptIds = llm.encodePrompt(prompt);
            assertEquals(promptIds.length + 5, ids.length, "prompt and the 5 output tokens fed back (the 6th is sampled, not cached)");
            assertEquals(Arrays.toString(promptIds), Arrays.toString(Arrays.copyOf(ids, promptIds.length)));
            String printed = out.toString(StandardCharsets.UTF_8).strip();
            String fed = llm.tokenizer().decode(Arrays.copyOfRange(ids, promptIds.length, ids.length)).strip();
            assertTrue(!fed.isEmpty() && printed.startsWith(fed), "the output's ids: '" + fed + "' vs printed '" + printed + "'");

            var config = llm.model().config();
            int layers = config.layers(), kvHeads = config.kvHeads(), heads = config.heads(), dim = config.headDim(), n = ids.length;
            float[][] keys = new float[layers][], queries = new float[layers][];  // [tokens][kvHeads * dim], [tokens][heads * dim]
            llm.model().prefill(ids, 0, ContiguousKvCache.forModel(config, n, ContiguousKvCache.Precision.F16), (name, layer, data, tokens, width) -> {
                if (name.equals("k")) keys[layer] = Arrays.copyOf(data, tokens * width);
                if (name.equals("q")) queries[layer] = Arrays.copyOf(data, tokens * width);
            });
            float[] dumpedKeys = arrays.get("keys").toFloatArray();      // [layers][kvHeads][n][dim]
            float[] decodeQueries = arrays.get("queries").toFloatArray();  // [layers][heads][dim]
            float[] prefillQueries = arrays.get("prefill_queries").toFloatArray();  // [layers][heads][P][dim]
            int[] positions = arrays.get("prefill_positions").toIntArray();
            assertEquals(promptIds.length - 1, positions[positions.length - 1], "the last prompt position's query is kept");
            for (int layer = 0; layer < layers; layer++) {
                for (int h = 0; h < kvHeads; h++) {
                    for (int t = 0; t < n; t++) {
                        for (int d = 0; d < dim; d++) {
                            float expected = keys[layer][(t * kvHeads + h) * dim + d];
                            assertEquals(expected, dumpedKeys[((layer * kvHeads + h) * n + t) * dim + d], 1e-3 * Math.abs(expected) + 1e-4,
                                    "layer " + layer + " key " + t);
                        }
                    }
                }
                for (int i = 0; i < heads * dim; i++) {
                    float expected = queries[layer][(n - 1) * heads * dim + i];
                    assertEquals(expected, decodeQueries[layer * heads * dim + i], 1e-4 + 1e-4 * Math.abs(expected), "decode query = last position's");
                }
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < positions.length; i++) {
                        for (int d = 0; d < dim; d++) {
                            float expected = queries[layer][(positions[i] * heads + h) * dim + d];
                            assertEquals(expected, prefillQueries[((layer * heads + h) * positions.length + i) * dim + d], 1e-4 + 1e-4 * Math.abs(expected));
                        }
                    }
                }
            }
        }
        out.reset();
        assertEquals(0, run("bench", "--kv-file", dump.toString(), "--seq-len", "48", "--block-size", "16", "--reps", "1", "--warmup", "0",
                "--no-progress"), err.toString(StandardCharsets.UTF_8));
    }
}
