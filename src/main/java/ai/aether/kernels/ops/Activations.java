package ai.aether.kernels.ops;

/** Element-wise activations and softmax. */
public final class Activations {
    private Activations() {}

    /** SwiGLU: gate[i] = silu(gate[i]) * up[i] for i in [0, n), silu(g) = g / (1 + e^-g). */
    public static void swiGlu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
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
