package ai.aether.kernels.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Small vector helpers over float arrays (offset + length views), Vector API with scalar tails. */
public final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /** sum_i a[aOff+i] * b[bOff+i] for i in [0, n). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int twice = 2 * F.length();
        for (; i + twice <= bound; i += twice) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + F.length()).fma(FloatVector.fromArray(F, b, bOff + i + F.length()), acc1);
        }
        for (; i < bound; i += F.length()) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
        }
        float sum = Lanes.sum(acc0.add(acc1));
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** y[yOff+i] += alpha * x[xOff+i] for i in [0, n). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** y[yOff+i] += x[xOff+i] for i in [0, n). */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).add(FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    /** x[off+i] *= factor for i in [0, n). */
    public static void scale(float[] x, int off, int n, float factor) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(factor).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] *= factor;
    }

    /** Index of the largest value in x[off .. off+n) (the first one on ties). */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    /** KL(p || q) in nats for the softmax distributions of two logit vectors, in float64. */
    public static double klDivergence(float[] pLogits, float[] qLogits) {
        double pMax = Double.NEGATIVE_INFINITY, qMax = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < pLogits.length; i++) {
            pMax = Math.max(pMax, pLogits[i]);
            qMax = Math.max(qMax, qLogits[i]);
        }
        double pSum = 0, qSum = 0;
        for (int i = 0; i < pLogits.length; i++) {
            pSum += Math.exp(pLogits[i] - pMax);
            qSum += Math.exp(qLogits[i] - qMax);
        }
        double pLog = pMax + Math.log(pSum), qLog = qMax + Math.log(qSum), kl = 0;
        for (int i = 0; i < pLogits.length; i++) {
            double lp = pLogits[i] - pLog;
            kl += Math.exp(lp) * (lp - (qLogits[i] - qLog));
        }
        return Math.max(0, kl);
    }
}
