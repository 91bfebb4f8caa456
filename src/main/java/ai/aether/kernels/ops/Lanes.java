package ai.aether.kernels.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lane sums and exp that give the same bits in every JIT tier, for kernels whose results feed
 * discrete decisions (which blocks to read, which token is greedy).
 *
 * <p>Why: the Vector API runs as plain Java until the optimising compiler intrinsifies it, and two
 * of its operations round differently in the two forms: {@code reduceLanes(ADD)} adds the lanes in
 * order in Java but as a tree in compiled code, and {@code lanewise(EXP)} calls {@code Math.exp} per
 * lane in Java but a vector math library when compiled. A calibration or selection computed while
 * its code was half compiled then differed in the last bits from one run to the next, enough to
 * flip near-tied block rankings and, through them, answers (the 8K demo gave one of two AETHER
 * answers at random). Here the sum is a fixed tree of lane permutations and adds, and exp a
 * polynomial of lane-wise adds and fmas: both are exactly specified IEEE operations in either form.
 */
public final class Lanes {
    // lane i <-> lane i ^ d, for the species sum() reduces
    private static final VectorShuffle<Float> S16_8 = swap(FloatVector.SPECIES_512, 8), S16_4 = swap(FloatVector.SPECIES_512, 4),
            S16_2 = swap(FloatVector.SPECIES_512, 2), S16_1 = swap(FloatVector.SPECIES_512, 1);
    private static final VectorShuffle<Float> S8_4 = swap(FloatVector.SPECIES_256, 4), S8_2 = swap(FloatVector.SPECIES_256, 2),
            S8_1 = swap(FloatVector.SPECIES_256, 1);
    private static final VectorShuffle<Float> S4_2 = swap(FloatVector.SPECIES_128, 2), S4_1 = swap(FloatVector.SPECIES_128, 1);

    // exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2]; Cephes' expf polynomial (max error ~1 ulp)
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;  // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
    private static final float MIN_ARG = -87.33654f, MAX_ARG = 88.72283f;  // 2^n stays a normal float in between
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private Lanes() {}

    /** The shuffle taking lane i to lane i ^ d (d a power of two below the lane count). */
    private static VectorShuffle<Float> swap(VectorSpecies<Float> species, int d) {
        int[] lanes = new int[species.length()];
        for (int i = 0; i < lanes.length; i++) lanes[i] = i ^ d;
        return VectorShuffle.fromValues(species, lanes);
    }

    // sum() and its helpers stay under 35 bytes of bytecode each, the JIT's limit for inlining at call
    // sites it has not seen run often: a vector crossing a call that is not inlined is boxed.

    /** The sum of the lanes, added in a fixed order: lane 0 plus lane n/2, then the same with n/4, ..., down to lane 1. */
    public static float sum(FloatVector v) {
        int n = v.length();
        return n == 16 ? sum16(v) : n == 8 ? sum8(v) : n == 4 ? sum4(v) : sumInOrder(v);
    }

    /**
     * {@link #sum(FloatVector)} of a vector already stored at {@code lanes[0 .. n)}: the same tree of
     * adds in scalar form, so the same bits. For kernels that the JIT may compile with this call left
     * out of line (out of inlining budget), where passing the vector itself would box it. Overwrites
     * {@code lanes}.
     */
    public static float sumOfLanes(float[] lanes, int n) {
        if (n != 16 && n != 8 && n != 4) {
            float s = 0;
            for (int i = 0; i < n; i++) s += lanes[i];
            return s;
        }
        for (int width = n / 2; width >= 1; width /= 2) {
            for (int i = 0; i < width; i++) lanes[i] = lanes[i] + lanes[i + width];
        }
        return lanes[0];
    }

    private static float sum16(FloatVector v) {
        return half(half(half(half(v, S16_8), S16_4), S16_2), S16_1).lane(0);
    }

    private static float sum8(FloatVector v) {
        return half(half(half(v, S8_4), S8_2), S8_1).lane(0);
    }

    private static float sum4(FloatVector v) {
        return half(half(v, S4_2), S4_1).lane(0);
    }

    private static FloatVector half(FloatVector v, VectorShuffle<Float> swap) {
        return v.add(v.rearrange(swap));
    }

    private static float sumInOrder(FloatVector v) {
        float s = 0;
        for (float x : v.toArray()) s += x;
        return s;
    }

    /**
     * e^x per lane: relative error ~1 ulp; 0 below -87.34 (where e^x leaves the normal floats), e^88.72
     * (~3.4e38) above 88.72, NaN for NaN.
     */
    public static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.lt(MIN_ARG);
        FloatVector c = x.max(MIN_ARG).min(MAX_ARG);
        FloatVector shifted = c.fma(LOG2E, ROUND);          // n + 1.5 * 2^23, n = round(x / ln 2)
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(x.species(), -LN2_HI), c);  // Cody-Waite: ln 2 in two parts
        r = n.fma(FloatVector.broadcast(x.species(), -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);                         // Horner: ((P0 r + P1) r + P2) r ...
        p = p.fma(r, FloatVector.broadcast(x.species(), P2));
        p = p.fma(r, FloatVector.broadcast(x.species(), P3));
        p = p.fma(r, FloatVector.broadcast(x.species(), P4));
        p = p.fma(r, FloatVector.broadcast(x.species(), P5));
        FloatVector one = FloatVector.broadcast(x.species(), 1f);
        FloatVector y = p.fma(r, one).fma(r, one);             // 1 + r (1 + r p(r))
        // 2^n: n sits in the low bits of `shifted`; moved into the exponent field and added to y's bits
        IntVector nBits = shifted.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND));
        FloatVector scaled = y.reinterpretAsInts().add(nBits.lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
        return scaled.blend(0f, underflow);
    }
}
