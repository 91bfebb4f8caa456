package ai.aether.kernels.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** RMSNorm: out = x / sqrt(mean(x^2) + eps) * weight. */
public final class Normalization {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Normalization() {}

    /**
     * Normalises {@code rows} consecutive rows of length {@code n}.
     *
     * @param x      [rows][n] input starting at xOff
     * @param weight [n] per-channel gain
     * @param out    [rows][n] output starting at outOff (may alias x)
     */
    public static void rmsNorm(float[] x, int xOff, float[] weight, float eps, int rows, int n, float[] out, int outOff) {
        for (int r = 0; r < rows; r++) {
            int off = xOff + r * n, dst = outOff + r * n;
            int i = 0;
            int bound = F.loopBound(n);
            FloatVector acc = FloatVector.zero(F);
            for (; i < bound; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, off + i);
                acc = v.fma(v, acc);
            }
            float sumSquares = Lanes.sum(acc);
            for (; i < n; i++) sumSquares += x[off + i] * x[off + i];
            float inverseRms = (float) (1.0 / Math.sqrt(sumSquares / n + eps));
            i = 0;
            for (; i < bound; i += F.length()) {
                FloatVector.fromArray(F, x, off + i).mul(inverseRms).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, dst + i);
            }
            for (; i < n; i++) out[dst + i] = x[off + i] * inverseRms * weight[i];
        }
    }
}
