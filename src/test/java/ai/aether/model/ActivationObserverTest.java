package ai.aether.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The named intermediates: their order, and layer 0's norm and RoPE'd queries against float64 maths written here. */
class ActivationObserverTest {

    @Test
    void layerZeroQueriesMatchFloat64AndNamesComeInOrder() throws Exception {
        try (Model model = Model.load(SharedModels.require(SharedModels.STORIES_F32))) {
            ModelConfig c = model.config();
            int[] tokens = {1, 403, 407};
            List<String> names = new ArrayList<>();
            float[][] queries = new float[1][];
            model.prefill(tokens, 0, model.newKvCache(8), (name, layer, data, count, width) -> {
                names.add(name + "@" + layer);
                if (name.equals("q") && layer == 0) queries[0] = java.util.Arrays.copyOf(data, count * width);
            });
            List<String> expectedLayer = List.of("attn_norm", "q", "k", "v", "attn_out", "ffn_inp", "ffn_norm", "ffn_act", "l_out");
            assertEquals(expectedLayer.size() * c.layers() + 1, names.size());
            for (int i = 0; i < expectedLayer.size(); i++) assertEquals(expectedLayer.get(i) + "@0", names.get(i));
            assertEquals("result_norm@-1", names.getLast());

            ModelWeights w = model.weights();
            int dim = c.dim(), qDim = c.heads() * c.headDim();
            float[] embedding = new float[dim], wq = new float[qDim * dim];
            for (int r = 0; r < qDim; r++) w.layers()[0].query().dequantizeRow(r, wq, r * dim);
            for (int t = 0; t < tokens.length; t++) {
                w.tokenEmbedding().dequantizeRow(tokens[t], embedding, 0);
                double sumSquares = 0;
                for (float v : embedding) sumSquares += (double) v * v;
                double inverse = 1 / Math.sqrt(sumSquares / dim + c.rmsEpsilon());
                double[] q = new double[qDim];
                for (int r = 0; r < qDim; r++) {
                    for (int i = 0; i < dim; i++) q[r] += wq[r * dim + i] * (embedding[i] * inverse * w.layers()[0].attnNorm()[i]);
                }
                for (int h = 0; h < c.heads(); h++) {
                    for (int p = 0; p < c.headDim() / 2; p++) { // llama GGUF: interleaved pairs
                        int i0 = h * c.headDim() + 2 * p;
                        double angle = t * Math.pow(c.ropeTheta(), -2.0 * p / c.headDim());
                        double a = q[i0], b = q[i0 + 1];
                        assertEquals(a * Math.cos(angle) - b * Math.sin(angle), queries[0][t * qDim + i0], 1e-4, "token " + t + " q" + i0);
                        assertEquals(a * Math.sin(angle) + b * Math.cos(angle), queries[0][t * qDim + i0 + 1], 1e-4, "token " + t + " q" + (i0 + 1));
                    }
                }
            }
        }
    }
}
