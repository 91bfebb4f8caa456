package ai.aether.kernels.ops;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The element-wise kernels against float64 formulas written out here. */
class OpsTest {

    static float[] gaussian(int n, long seed) {
        Random random = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    @Property(tries = 50)
    void rmsNormMatchesFloat64(@ForAll @IntRange(min = 1, max = 300) int n, @ForAll @IntRange(min = 1, max = 3) int rows) {
        float[] x = gaussian(rows * n, n), weight = gaussian(n, n + 1);
        float[] out = new float[rows * n + 2];
        Normalization.rmsNorm(x, 0, weight, 1e-5f, rows, n, out, 2);
        for (int r = 0; r < rows; r++) {
            double sumSquares = 0;
            for (int i = 0; i < n; i++) sumSquares += (double) x[r * n + i] * x[r * n + i];
            double inverse = 1 / Math.sqrt(sumSquares / n + 1e-5);
            for (int i = 0; i < n; i++) {
                double want = x[r * n + i] * inverse * weight[i];
                assertEquals(want, out[2 + r * n + i], 1e-5 * Math.max(1, Math.abs(want)));
            }
        }
    }

    @Test
    void ropeRotatesThePairsEachStyleNames() {
        int headDim = 8, heads = 2, position = 37;
        double theta = 10000;
        for (Rope.Style style : Rope.Style.values()) {
            Rope rope = new Rope(style, headDim, theta, 64);
            float[] x = gaussian(heads * headDim, 7);
            float[] rotated = x.clone();
            rope.apply(rotated, 0, heads, position);
            for (int h = 0; h < heads; h++) {
                for (int p = 0; p < headDim / 2; p++) {
                    int i0 = style == Rope.Style.INTERLEAVED ? h * headDim + 2 * p : h * headDim + p;
                    int i1 = style == Rope.Style.INTERLEAVED ? i0 + 1 : i0 + headDim / 2;
                    double angle = position * Math.pow(theta, -2.0 * p / headDim);
                    double want0 = x[i0] * Math.cos(angle) - x[i1] * Math.sin(angle);
                    double want1 = x[i0] * Math.sin(angle) + x[i1] * Math.cos(angle);
                    assertEquals(want0, rotated[i0], 1e-5, style + " pair " + p);
                    assertEquals(want1, rotated[i1], 1e-5, style + " pair " + p);
                }
            }
        }
        Rope rope = new Rope(Rope.Style.NEOX, headDim, theta, 64);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> rope.apply(new float[8], 0, 1, 64));
        assertEquals("position 64 outside the RoPE table [0, 64)", error.getMessage());
    }

    @Test
    void softmaxAndSwiGluMatchFormulas() {
        float[] x = {1f, 2f, 3f, -1000f};
        Activations.softmax(x, 0, 4);
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(1) / z, x[0], 1e-6);
        assertEquals(Math.exp(3) / z, x[2], 1e-6);
        assertEquals(0, x[3], 1e-30);
        float[] gate = {-2f, 0f, 3f}, up = {1.5f, 2f, -0.5f};
        Activations.swiGlu(gate, up, 3);
        assertEquals(-2 / (1 + Math.exp(2)) * 1.5, gate[0], 1e-6);
        assertEquals(0, gate[1], 0);
        assertEquals(3 / (1 + Math.exp(-3)) * -0.5, gate[2], 1e-6);
    }

    @Property(tries = 30)
    void swiGluMatchesFloat64OnEveryLengthAndSign(@ForAll @IntRange(min = 0, max = 70) int n) {
        float[] gate = gaussian(n, n), up = gaussian(n, n + 1);
        for (int i = 0; i < n; i++) gate[i] *= 8; // reach the saturated ends of the sigmoid
        float[] out = gate.clone();
        Activations.swiGlu(out, up, n);
        for (int i = 0; i < n; i++) {
            double want = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            assertEquals(want, out[i], 1e-6 * Math.max(1, Math.abs(want)), "element " + i);
        }
    }

    @Property(tries = 50)
    void vectorHelpersMatchLoops(@ForAll @IntRange(min = 0, max = 100) int n) {
        float[] a = gaussian(n + 3, n), b = gaussian(n + 5, n + 9);
        double dot = 0;
        for (int i = 0; i < n; i++) dot += (double) a[3 + i] * b[5 + i];
        assertEquals(dot, VectorMath.dot(a, 3, b, 5, n), 1e-4 * (1 + n));
        float[] y = b.clone();
        VectorMath.axpy(0.5f, a, 3, y, 5, n);
        for (int i = 0; i < n; i++) assertEquals(b[5 + i] + 0.5 * a[3 + i], y[5 + i], 1e-6);
    }
}
