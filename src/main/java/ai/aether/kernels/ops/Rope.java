package ai.aether.kernels.ops;

/**
 * Rotary position embedding. Rotation angle of pair p at position t is t * theta^(-2p/headDim).
 * Two pairings exist: {@link Style#INTERLEAVED} rotates (x[2p], x[2p+1]) (GGUF llama, whose Q/K
 * weights were permuted for it), {@link Style#NEOX} rotates (x[p], x[p + headDim/2]) (qwen2).
 * Cosines and sines are tabulated once per position range, so decode pays no trigonometry.
 */
public final class Rope {

    /** Which dimensions form a rotated pair. */
    public enum Style { INTERLEAVED, NEOX }

    private final Style style;
    private final int headDim;
    private final int maxPositions;
    private final float[] cos; // [maxPositions][headDim/2]
    private final float[] sin; // [maxPositions][headDim/2]

    public Rope(Style style, int headDim, double theta, int maxPositions) {
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("RoPE head dim must be even and positive, got " + headDim);
        if (maxPositions <= 0) throw new IllegalArgumentException("RoPE max positions must be positive, got " + maxPositions);
        if (!(theta > 0)) throw new IllegalArgumentException("RoPE theta must be positive, got " + theta);
        this.style = style;
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        int half = headDim / 2;
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        for (int p = 0; p < half; p++) {
            double frequency = Math.pow(theta, -2.0 * p / headDim);
            for (int t = 0; t < maxPositions; t++) {
                double angle = t * frequency;
                cos[t * half + p] = (float) Math.cos(angle);
                sin[t * half + p] = (float) Math.sin(angle);
            }
        }
    }

    public int maxPositions() {
        return maxPositions;
    }

    /**
     * Rotates {@code heads} consecutive head vectors at one position, in place.
     *
     * @param x [heads][headDim] starting at {@code off}
     */
    public void apply(float[] x, int off, int heads, int position) {
        if (position < 0 || position >= maxPositions) {
            throw new IllegalArgumentException("position " + position + " outside the RoPE table [0, " + maxPositions + ")");
        }
        int half = headDim / 2;
        int table = position * half;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int p = 0; p < half; p++) {
                int i0 = style == Style.INTERLEAVED ? base + 2 * p : base + p;
                int i1 = style == Style.INTERLEAVED ? i0 + 1 : i0 + half;
                float c = cos[table + p], s = sin[table + p];
                float a = x[i0], b = x[i1];
                x[i0] = a * c - b * s;
                x[i1] = a * s + b * c;
            }
        }
    }
}
