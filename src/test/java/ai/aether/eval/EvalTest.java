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
    static final AetherConfig KEEP_ALL = AetherConfig.builder().blockSize(16).minSeqLength(0).targetSparsity(0).build();

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
        var cache = new ai.aether.model.AetherKvCache(config, 64, AetherConfig.builder().blockSize(8).minSeqLength(0).kvDtype(KvDtype.FP16).build());
        java.util.Random random = new java.util.Random(2);
        int tokens = 37, stride = config.kvHeads() * config.headDim();
        float[] q = new float[config.heads() * config.headDim()], out = new float[q.length];
        for (int layer = 0; layer < config.layers(); layer++) {
            float[] k = new float[tokens * stride], v = new float[k.length];
            for (int i = 0; i < k.length; i++) { k[i] = (float) random.nextGaussian(); v[i] = (float) random.nextGaussian(); }
            cache.write(layer, 0, tokens, k, v);
            for (int i = 0; i < q.length; i++) q[i] = (float) random.nextGaussian();
            float[] k1 = Arrays.copyOf(k, stride), v1 = Arrays.copyOf(v, stride);
            cache.write(layer, tokens, 1, k1, v1);
            cache.attend(layer, tokens, 1, q, config.heads(), out);
        }
        Path file = java.nio.file.Files.createTempFile("aether-dump", ".npz");
        try {
            KvDump.write(cache, tokens + 1, file);
            var source = new ai.aether.bench.NpzKvSource(file);
            float[][] layer1 = cache.readLayer(1, tokens + 1);
            var snapshot = source.load(1, tokens + 1);
            assertEquals(config.kvHeads(), snapshot.kvHeads());
            assertEquals(config.heads(), snapshot.queryHeads());
            for (int i = 0; i < layer1[0].length; i++) assertEquals(layer1[0][i], snapshot.keys()[i], 0f, "fp16 keys round trip exactly");
            float[] queries = cache.lastDecodeQueries(1);
            for (int i = 0; i < queries.length; i++) assertEquals(queries[i], snapshot.queries()[i], 0f);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
