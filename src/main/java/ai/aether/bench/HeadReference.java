package ai.aether.bench;

/**
 * Float64 dense attention of one query head over one snapshot, summarised per block so that
 * the metrics of any block selection follow exactly without another pass over the cache:
 * restricting softmax to kept blocks renormalises the dense weights by the kept mass M, so the
 * sparse output is {@code sum_kept blockOutput / M}, and its entropy is
 * {@code sum_kept blockEntropy / M + ln M}.
 */
public final class HeadReference {

    final int blockCount;
    final int headDim;
    final double[] blockMass;     // [blocks] dense softmax mass of the block's tokens
    final double[] blockOutput;   // [blocks][headDim] sum over the block of p_t * v_t
    final double[] blockEntropy;  // [blocks] sum over the block of -p_t ln p_t
    final double[] denseOutput;   // [headDim]
    final double denseEntropy;

    private HeadReference(int blockCount, int headDim, double[] blockMass, double[] blockOutput,
                          double[] blockEntropy, double[] denseOutput, double denseEntropy) {
        this.blockCount = blockCount;
        this.headDim = headDim;
        this.blockMass = blockMass;
        this.blockOutput = blockOutput;
        this.blockEntropy = blockEntropy;
        this.denseOutput = denseOutput;
        this.denseEntropy = denseEntropy;
    }

    /** Number of blocks of {@code blockSize} tokens covering {@code tokens} (the last may be partial). */
    public static int blockCount(int tokens, int blockSize) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /** Dense softmax(q . k / sqrt(D)) attention of query head {@code queryHead}, in float64. */
    public static HeadReference compute(KvSnapshot s, int queryHead, int blockSize) {
        int d = s.headDim(), tokens = s.tokens();
        int kvHead = queryHead / s.groupSize();
        double scale = 1 / Math.sqrt(d);
        double[] logits = new double[tokens];  // [tokens]
        double max = Double.NEGATIVE_INFINITY;
        int q = queryHead * d;
        for (int t = 0; t < tokens; t++) {
            int k = s.kvOffset(kvHead, t);
            double dot = 0;
            for (int i = 0; i < d; i++) dot += (double) s.queries()[q + i] * s.keys()[k + i];
            logits[t] = dot * scale;
            max = Math.max(max, logits[t]);
        }
        double sum = 0;
        for (int t = 0; t < tokens; t++) {
            logits[t] = Math.exp(logits[t] - max);
            sum += logits[t];
        }
        int blocks = blockCount(tokens, blockSize);
        double[] mass = new double[blocks];
        double[] output = new double[blocks * d];
        double[] entropy = new double[blocks];
        double[] dense = new double[d];
        double denseEntropy = 0;
        for (int t = 0; t < tokens; t++) {
            double p = logits[t] / sum;
            int b = t / blockSize;
            mass[b] += p;
            if (p > 0) entropy[b] -= p * Math.log(p);
            int v = s.kvOffset(kvHead, t);
            for (int i = 0; i < d; i++) output[b * d + i] += p * s.values()[v + i];
        }
        for (int b = 0; b < blocks; b++) {
            denseEntropy += entropy[b];
            for (int i = 0; i < d; i++) dense[i] += output[b * d + i];
        }
        return new HeadReference(blocks, d, mass, output, entropy, dense, denseEntropy);
    }

    /** The float64 sparse output {@code [headDim]}: softmax over the kept blocks' tokens only. */
    public double[] sparseOutput(boolean[] kept) {
        double[] out = new double[headDim];
        double mass = 0;
        for (int b = 0; b < blockCount; b++) {
            if (!kept[b]) continue;
            mass += blockMass[b];
            for (int i = 0; i < headDim; i++) out[i] += blockOutput[b * headDim + i];
        }
        for (int i = 0; i < headDim; i++) out[i] /= mass;
        return out;
    }

    /** Dense softmax mass of block {@code b}. */
    public double blockMass(int b) {
        return blockMass[b];
    }

    public int blockCount() {
        return blockCount;
    }
}
