package ai.aether.kernels.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lanes.exp against StrictMath in float64; Lanes.sum against float64 and against its fixed order written out in scalar code. */
class LanesTest {
    private static final List<VectorSpecies<Float>> SPECIES =
            List.of(FloatVector.SPECIES_64, FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512);

    @Test
    void expIsWithinTwoUlpOfFloat64OverTheNormalRange() {
        Random random = new Random(7);
        for (VectorSpecies<Float> species : SPECIES) {
            float[] x = new float[species.length()], y = new float[species.length()];
            for (int trial = 0; trial < 20_000; trial++) {
                for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextDouble() * 176 - 87.3);
                Lanes.exp(FloatVector.fromArray(species, x, 0)).intoArray(y, 0);
                for (int i = 0; i < x.length; i++) {
                    double expected = StrictMath.exp(x[i]);
                    if (expected > Float.MAX_VALUE) continue;
                    assertEquals(expected, y[i], 2 * Math.ulp((float) expected), "exp(" + x[i] + ") on " + species);
                }
            }
        }
    }

    @Test
    void expEdgeValues() {
        VectorSpecies<Float> s = FloatVector.SPECIES_256;
        float[] x = {0f, Float.NEGATIVE_INFINITY, -1000f, -87.5f, 1f, -1f, 88.7f, Float.NaN};
        float[] y = new float[8];
        Lanes.exp(FloatVector.fromArray(s, x, 0)).intoArray(y, 0);
        assertEquals(1f, y[0], 0f, "exp(0) is exactly 1 (the softmax maximum's weight)");
        assertEquals(0f, y[1], 0f);
        assertEquals(0f, y[2], 0f);
        assertEquals(0f, y[3], 0f, "below the normal range: 0");
        assertEquals(Math.E, y[4], 2 * Math.ulp((float) Math.E));
        assertEquals(1 / Math.E, y[5], 2 * Math.ulp((float) (1 / Math.E)));
        assertEquals(StrictMath.exp(88.7f), y[6], 2 * Math.ulp((float) StrictMath.exp(88.7f)));
        assertTrue(Float.isNaN(y[7]));
    }

    @Test
    void sumAddsInItsFixedTreeOrder() {
        Random random = new Random(11);
        for (VectorSpecies<Float> species : SPECIES) {
            int n = species.length();
            float[] x = new float[n];
            for (int trial = 0; trial < 5_000; trial++) {
                double exact = 0;
                for (int i = 0; i < n; i++) {
                    x[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian() * 3));
                    exact += x[i];
                }
                float got = Lanes.sum(FloatVector.fromArray(species, x, 0));
                assertEquals(Float.floatToIntBits(treeSum(x)), Float.floatToIntBits(got), "bits of the sum on " + species);
                assertEquals(Float.floatToIntBits(got), Float.floatToIntBits(Lanes.sumOfLanes(x.clone(), n)),
                        "the scalar form of the tree gives the vector form's bits, on " + species);
                double scale = 0;
                for (float v : x) scale += Math.abs(v);
                assertEquals(exact, got, 1e-6 * scale + 1e-30);
            }
        }
    }

    /** Lane i plus lane (i + half) mod n, halving until one lane is left: the order Lanes.sum promises (lane 0 of a rotation tree). */
    private static float treeSum(float[] lanes) {
        float[] v = lanes.clone();
        for (int by = v.length / 2; by >= 1; by /= 2) {
            float[] next = new float[v.length];
            for (int i = 0; i < v.length; i++) next[i] = v[i] + v[(i + by) % v.length];
            v = next;
        }
        return v[0];
    }
}
