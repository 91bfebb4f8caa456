package ai.aether.kernels.attention;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * INT8 KV storage against its definition, computed here in float64: every key and value vector is
 * stored with scale {@code s = max|x| / 127} and codes in [-127, 127], so each element reads back
 * within {@code s/2} (plus fp32 rounding of the product), the largest element to within rounding
 * of itself, and a zero vector as zeros. The kernel's arithmetic on those stored values is checked
 * against float64 attention in {@link DecodeGroupShapesTest} and {@link ExactBlockMassTest}.
 */
class Int8KvTest {

    @Property(tries = 60)
    void storedVectorsAreWithinHalfAStepOfTheInput(@ForAll @IntRange(min = 1, max = 130) int headDim,
                                                   @ForAll @IntRange(min = 1, max = 64) int blockSize,
                                                   @ForAll @IntRange(min = -6, max = 4) int exponent,
                                                   @ForAll long seed) {
        Random random = new Random(seed);
        double magnitude = Math.pow(10, exponent) * (1 + random.nextDouble());
        KvBlockPool pool = new KvBlockPool(headDim, blockSize, KvDtype.INT8, 0);
        int id = pool.allocate(), slot = random.nextInt(blockSize);
        float[] key = new float[headDim], value = new float[headDim];
        for (int d = 0; d < headDim; d++) {
            key[d] = (float) (magnitude * random.nextGaussian());
            value[d] = (float) (magnitude * (random.nextDouble() - 0.5));
        }
        pool.writeToken(id, slot, key, 0, value, 0);
        float[] keyBack = new float[headDim], valueBack = new float[headDim];
        pool.readKey(id, slot, keyBack, 0);
        pool.readValue(id, slot, valueBack, 0);
        assertWithinHalfStep(key, keyBack, "key");
        assertWithinHalfStep(value, valueBack, "value");
    }

    private static void assertWithinHalfStep(float[] x, float[] back, String what) {
        double largest = 0;
        for (float v : x) largest = Math.max(largest, Math.abs(v));
        double step = largest / 127;
        for (int d = 0; d < x.length; d++) {
            double bound = step / 2 * (1 + 1e-5) + Math.abs(x[d]) * 1e-6;
            assertTrue(Math.abs(back[d] - x[d]) <= bound, what + "[" + d + "]: stored " + back[d] + " for " + x[d] + " (step " + step + ")");
            double code = back[d] / step;
            assertTrue(Math.abs(code - Math.rint(code)) < 1e-3 && Math.abs(code) <= 127 + 1e-3, what + "[" + d + "] is not a code times the step: " + code);
        }
    }

    @Test
    void aZeroVectorStaysZeroAndTheLargestElementIsKept() {
        KvBlockPool pool = new KvBlockPool(8, 4, KvDtype.INT8, 0);
        int id = pool.allocate();
        float[] zero = new float[8], peak = {0.5f, -3f, 1e-9f, 0, 2.9f, -0.01f, 1, 3};
        pool.writeToken(id, 0, zero, 0, peak, 0);
        float[] back = new float[8];
        pool.readKey(id, 0, back, 0);
        for (float v : back) assertEquals(0f, v);
        pool.readValue(id, 0, back, 0);
        assertEquals(-3f, back[1], 1e-6f);
        assertEquals(3f, back[7], 1e-6f);
        assertEquals(0f, back[2], "an element below half a step rounds to zero");
    }

    @Test
    void readsHalfTheBytesOfFp16PlusTheScales() {
        assertEquals(64 * 2 + 2 * 4, new KvBlockPool(64, 64, KvDtype.INT8, 0).kvBytes(1));
        assertEquals(64 * 2 * 2, new KvBlockPool(64, 64, KvDtype.FP16, 0).kvBytes(1));
    }

    @Test
    void elementRoundingIsRefusedWithTheReason() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> KvDtype.INT8.round(1f));
        assertTrue(e.getMessage().contains("roundVector"), e.getMessage());
    }
}
