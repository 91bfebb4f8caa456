package ai.aether.eval;

import ai.aether.attention.AetherConfig;
import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide.Setting;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.model.ContiguousKvCache;
import ai.aether.model.KvCache;
import ai.aether.model.SharedModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The evaluations' arithmetic against independent computations (stories260K: fast; the numbers, not the model, are under test). */
class EvalTest {
    static final AetherConfig KEEP_ALL = AetherConfig.builder().blockSize(16).minSeqLength(0).minKeptTokens(0).targetSparsity(0).build();

    @Test
    void perplexityOfDenseMatchesFreshPrefillsOfEveryPrefix() throws Exception {
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        String text = "Once upon a time, there was a little girl named Lily. She loved to play outside with her ball. "
                + "One day, she saw a big dog in the park. The dog was friendly and wanted to play too.";
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            int[] all = llm.tokenizer().encode(text, false, false);
            int window = Math.min(48, all.length), scored = 8;
            List<PerplexityEval.Result> results = PerplexityEval.run(llm, text, window, scored, 1,
                    List.of(Setting.dense(), new Setting("keep all", KEEP_ALL)), EvalProgress.NONE);
            // reference: a fresh fp32 contiguous cache and a full prefill for every scored position
            double nll = 0;
            for (int i = 0; i < scored; i++) {
                int context = window - scored + i;
                KvCache cache = new ContiguousKvCache(llm.model().config().layers(), llm.model().config().kvHeads(),
                        llm.model().config().headDim(), context, ContiguousKvCache.Precision.F32);
                float[] logits = llm.model().prefill(Arrays.copyOf(all, context), 0, cache);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (float l : logits) max = Math.max(max, l);
                for (float l : logits) sum += Math.exp(l - max);
                nll += max + Math.log(sum) - logits[all[context]];
            }
            double reference = Math.exp(nll / scored);
            assertEquals(reference, results.get(0).perplexity(), reference * 2e-3, "fp16 KV vs fp32 reference");
            assertEquals(results.get(0).perplexity(), results.get(1).perplexity(), 1e-6, "every block kept = dense (up to summation order)");
        }
    }

    @Test
    void negativeLogLikelihoodIsTheLogSoftmax() {
        // logits (0, ln 3): p = (1/4, 3/4)
        assertEquals(Math.log(4), PerplexityEval.negativeLogLikelihood(new float[] {0, (float) Math.log(3)}, 0), 1e-6);
        assertEquals(Math.log(4.0 / 3.0), PerplexityEval.negativeLogLikelihood(new float[] {0, (float) Math.log(3)}, 1), 1e-6);
    }

    @Test
    void agreementOfASettingThatKeepsEveryBlockIsComplete() throws Exception {
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        AetherConfig sparse = KEEP_ALL.toBuilder().targetSparsity(0.7).localWindow(1).build();
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            int[] prompt = llm.encodePrompt("Once upon a time, there was a little girl named Lily. She loved to play outside. ".repeat(5));
            List<AgreementEval.Result> results = AgreementEval.run(llm, List.of(prompt), 10,
                    List.of(new Setting("keep all", KEEP_ALL), new Setting("sparse", sparse)), EvalProgress.NONE);
            AgreementEval.Result all = results.get(0), part = results.get(1);
            assertEquals(10, all.teacherForcedAgreeing());
            assertEquals(10, all.freeRunningPrefix());
            assertEquals(0.0, all.meanKl(), 1e-9);
            assertTrue(part.sparsity() > 0.4, "sparse setting skipped blocks: " + part.sparsity());
            assertTrue(part.meanKl() > 0);
        }
    }

    @Test
    void passkeyPromptsFitTheirLengthAndHideTheKeyAtTheDepth() throws Exception {
        Path model = SharedModels.require(SharedModels.STORIES_F32);
        try (LLM llm = LLM.load(model, (AetherConfig) null)) {
            for (double depth : new double[] {0, 0.5, 1}) {
                PasskeyEval.Case c = PasskeyEval.buildCase(llm, 512, depth, 0, 7);
                assertTrue(c.tokens().length <= 512 - PasskeyEval.ANSWER_TOKENS - 1 && c.tokens().length > 400, "length " + c.tokens().length);
                String text = llm.tokenizer().decode(c.tokens());
                int at = text.indexOf("The pass key is " + c.key());
                assertTrue(at >= 0, "needle present");
                int fillerStart = text.indexOf("The grass") < 0 ? at : Math.min(at, text.indexOf("The grass"));
                int fillerEnd = text.indexOf("What is the pass key?");
                double relative = (double) (at - fillerStart) / (fillerEnd - fillerStart);
                assertEquals(depth, relative, 0.12, "needle at depth " + depth);
                assertTrue(text.endsWith("What is the pass key? The pass key is"), text.substring(text.length() - 60));
            }
            List<PasskeyEval.Result> results = PasskeyEval.run(llm, List.of(Setting.dense(), new Setting("keep all", KEEP_ALL)),
                    new int[] {256}, new double[] {0.5}, 1, 3, EvalProgress.NONE);
            assertEquals(results.get(0).answer(), results.get(1).answer(), "keeping every block answers as dense does");
        }
    }

    @Test
    void kvDumpRoundTripsThroughTheBenchReader() throws Exception {
        var config = new ai.aether.model.ModelConfig(ai.aether.model.Architecture.LLAMA, "test", 64, 96, 2, 32, 6, 2, 16, 1e-5f, 10000, 32);
        var cache = new ai.aether.model.AetherKvCache(config, 64, AetherConfig.builder().blockSize(8).minSeqLength(0).minKeptTokens(0).kvDtype(KvDtype.FP16).build());
        int tokens = 37, heads = config.heads(), kvHeads = config.kvHeads(), dim = config.headDim(), layers = config.layers();
        int[] recorded = KvDump.prefillQueryPositions(tokens);
        assertEquals(List.of(4, 12, 20, 28, 36), Arrays.stream(recorded).boxed().toList(), "every 8th, ending at the last prompt position");
        cache.recordPrefillQueries(recorded);
        java.util.Random random = new java.util.Random(2);
        float[][] keys = new float[layers][], values = new float[layers][];  // [layers][(tokens + 1) * kvHeads * dim] as written
        float[][] prefillQ = new float[layers][], decodeQ = new float[layers][];  // [tokens * heads * dim], [heads * dim]
        for (int layer = 0; layer < layers; layer++) {
            keys[layer] = gaussians(random, (tokens + 1) * kvHeads * dim);
            values[layer] = gaussians(random, keys[layer].length);
            prefillQ[layer] = gaussians(random, tokens * heads * dim);
            decodeQ[layer] = gaussians(random, heads * dim);
            int prompt = tokens * kvHeads * dim;
            cache.write(layer, 0, tokens, Arrays.copyOf(keys[layer], prompt), Arrays.copyOf(values[layer], prompt));
            cache.attend(layer, 0, tokens, prefillQ[layer], heads, new float[prefillQ[layer].length]);
            cache.write(layer, tokens, 1, Arrays.copyOfRange(keys[layer], prompt, keys[layer].length),
                    Arrays.copyOfRange(values[layer], prompt, values[layer].length));
            cache.attend(layer, tokens, 1, decodeQ[layer], heads, new float[heads * dim]);
        }
        int[] ids = new int[tokens + 1];
        for (int i = 0; i < ids.length; i++) ids[i] = 3 * i + 1;
        Path file = java.nio.file.Files.createTempFile("aether-dump", ".npz");
        try {
            KvDump.write(cache, tokens + 1, ids, file);
            var source = new ai.aether.bench.NpzKvSource(file);
            assertEquals(kvHeads, source.kvHeads());
            assertEquals(heads, source.queryHeads());
            assertEquals(tokens + 1, source.maxTokens());
            for (int layer = 0; layer < layers; layer++) {
                var snapshot = source.load(layer, tokens + 1);  // keys [kvHeads][tokens][dim]
                for (int h = 0; h < kvHeads; h++) {
                    for (int t = 0; t <= tokens; t++) {
                        for (int d = 0; d < dim; d++) {
                            int written = (t * kvHeads + h) * dim + d, read = (h * (tokens + 1) + t) * dim + d;
                            assertEquals(fp16(keys[layer][written]), snapshot.keys()[read], 0f, "key rounded to fp16 once");
                            assertEquals(fp16(values[layer][written]), snapshot.values()[read], 0f, "value rounded to fp16 once");
                        }
                    }
                }
                for (int i = 0; i < heads * dim; i++) assertEquals(decodeQ[layer][i], snapshot.queries()[i], 0f, "decode query exact");
            }
            var arrays = ai.aether.npz.NpzFile.readAll(file);
            assertEquals(Arrays.toString(recorded), Arrays.toString(arrays.get("prefill_positions").toIntArray()));
            assertEquals(Arrays.toString(ids), Arrays.toString(arrays.get("token_ids").toIntArray()));
            assertEquals(8, arrays.get("block_size").toIntArray()[0]);
            var pq = arrays.get("prefill_queries");
            assertEquals(Arrays.toString(new int[] {layers, heads, recorded.length, dim}), Arrays.toString(pq.shape()));
            float[] pqValues = pq.toFloatArray();  // [layers][heads][P][dim]
            for (int layer = 0; layer < layers; layer++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < recorded.length; i++) {
                        for (int d = 0; d < dim; d++) {
                            assertEquals(prefillQ[layer][(recorded[i] * heads + h) * dim + d], pqValues[((layer * heads + h) * recorded.length + i) * dim + d], 0f);
                        }
                    }
                }
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @Test
    void kvDumpWithoutADecodeStepIsRefused() {
        var config = new ai.aether.model.ModelConfig(ai.aether.model.Architecture.LLAMA, "test", 64, 96, 1, 32, 6, 2, 16, 1e-5f, 10000, 32);
        var cache = new ai.aether.model.AetherKvCache(config, 16, AetherConfig.builder().blockSize(8).build());
        cache.write(0, 0, 4, new float[4 * 2 * 16], new float[4 * 2 * 16]);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> KvDump.write(cache, 4, null, Path.of("unused.npz")));
        assertTrue(e.getMessage().contains("no decode step"), e.getMessage());
    }

    static float[] gaussians(java.util.Random random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) random.nextGaussian();
        return out;
    }

    static float fp16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }
}
