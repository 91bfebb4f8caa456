package ai.aether.attention;

import ai.aether.kernels.attention.KvDtype;

import java.util.Random;

/** Plain float64 attention and block maths, written independently of the code under test. */
final class Reference {

    private Reference() {}

    /**
     * Softmax attention of one query over the tokens of one KV head whose block is kept.
     *
     * @param keys   {@code [S][D]}
     * @param kept   per block, or null for all
     * @param limit  last visible position (inclusive)
     */
    static double[] attention(float[] query, int queryOffset, float[] keys, float[] values, int length, int dim, int blockSize,
                              boolean[] kept, int limit) {
        double scale = 1.0 / Math.sqrt(dim);
        double max = Double.NEGATIVE_INFINITY;
        double[] logits = new double[length];
        for (int t = 0; t <= limit && t < length; t++) {
            if (kept != null && !kept[t / blockSize]) continue;
            double s = 0;
            for (int d = 0; d < dim; d++) s += (double) query[queryOffset + d] * keys[t * dim + d];
            logits[t] = s * scale;
            max = Math.max(max, logits[t]);
        }
        double z = 0;
        double[] out = new double[dim];
        for (int t = 0; t <= limit && t < length; t++) {
            if (kept != null && !kept[t / blockSize]) continue;
            double p = Math.exp(logits[t] - max);
            z += p;
            for (int d = 0; d < dim; d++) out[d] += p * values[t * dim + d];
        }
        for (int d = 0; d < dim; d++) out[d] /= z;
        return out;
    }

    /** Exact softmax weights of one query over all S tokens. */
    static double[] softmax(float[] query, int queryOffset, float[] keys, int length, int dim) {
        double scale = 1.0 / Math.sqrt(dim);
        double[] p = new double[length];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < length; t++) {
            double s = 0;
            for (int d = 0; d < dim; d++) s += (double) query[queryOffset + d] * keys[t * dim + d];
            p[t] = s * scale;
            max = Math.max(max, p[t]);
        }
        double z = 0;
        for (int t = 0; t < length; t++) z += p[t] = Math.exp(p[t] - max);
        for (int t = 0; t < length; t++) p[t] /= z;
        return p;
    }

    /** Largest logit (scaled) of the query over the tokens of block {@code block}. */
    static double blockMaxLogit(float[] query, int queryOffset, float[] keys, int length, int dim, int blockSize, int block) {
        double best = Double.NEGATIVE_INFINITY;
        for (int t = block * blockSize; t < Math.min(length, (block + 1) * blockSize); t++) {
            double s = 0;
            for (int d = 0; d < dim; d++) s += (double) query[queryOffset + d] * keys[t * dim + d];
            best = Math.max(best, s / Math.sqrt(dim));
        }
        return best;
    }

    /** ||a - b|| / ||b||. */
    static double relativeError(float[] actual, int offset, double[] expected) {
        double num = 0, den = 0;
        for (int d = 0; d < expected.length; d++) {
            double diff = actual[offset + d] - expected[d];
            num += diff * diff;
            den += expected[d] * expected[d];
        }
        return Math.sqrt(num / den);
    }

    static float[] gaussian(Random random, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextGaussian() * sigma);
        return x;
    }

    /** x as the dtype stores it, x being rows of {@code dim} elements (INT8's scale is per row). */
    static float[] rounded(float[] x, KvDtype dtype, int dim) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += dim) dtype.roundVector(x, i, dim, y, i);
        return y;
    }

    static float[] rounded(float[] x, KvDtype dtype) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = dtype.round(x[i]);
        return y;
    }

    /** Head h of sequence b of a [B][H][S][D] tensor, as [S][D]. */
    static float[] head(float[] tensor, int b, int h, int heads, int length, int dim) {
        float[] out = new float[length * dim];
        System.arraycopy(tensor, (b * heads + h) * length * dim, out, 0, length * dim);
        return out;
    }
}
