package ai.aether.kernels.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Element-wise activations and softmax. */
public final class Activations {
    private Activations() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** SwiGLU: gate[i] = silu(gate[i]) * up[i] for i in [0, n), silu(g) = g / (1 + e^-g). */
    public static void swiGlu(float[] gate, float[] up, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector sigmoidDenominator = Lanes.exp(g.neg()).add(1f);
            g.div(sigmoidDenominator).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /** In-place softmax over x[off .. off+n), computed with the max subtracted for stability. */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inverse = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inverse;
    }
}
