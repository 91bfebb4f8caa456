package ai.aether.kernels.attention;

/**
 * Storage type of cached keys and values. Arithmetic is always fp32: FP16 and BF16 rows are
 * widened to fp32 (exactly) when a block is read; INT8 codes are multiplied by their token's scale.
 */
public enum KvDtype {
    FP32(4),
    /** IEEE 754 binary16: 10 mantissa bits, relative rounding error <= 2^-11. */
    FP16(2),
    /** bfloat16: fp32's exponent, 7 mantissa bits, relative rounding error <= 2^-8. */
    BF16(2),
    /**
     * Symmetric int8 per token: each key and each value vector is stored as {@code round(x / s)}
     * with {@code s = max|x| / 127} (one fp32 scale per vector), so a step reads about half the
     * bytes of FP16. Error per element <= s/2 (~0.4% of the vector's largest element).
     */
    INT8(1);

    private final int bytes;

    KvDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per stored element. */
    public int bytes() {
        return bytes;
    }

    /** Bytes stored per token of one head for its key and value: elements plus INT8's two scales. */
    public long tokenBytes(int headDim) {
        return 2L * headDim * bytes + (this == INT8 ? 2 * Float.BYTES : 0);
    }

    /**
     * The value this dtype stores for {@code x}, back in fp32 (round to nearest even). Element by
     * element: not defined for INT8, whose scale depends on the whole vector ({@link #roundVector}).
     */
    public float round(float x) {
        return switch (this) {
            case FP32 -> x;
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(x));
            case BF16 -> bf16ToFloat(floatToBf16(x));
            case INT8 -> throw new UnsupportedOperationException("INT8 rounds whole key/value vectors (its scale is per vector): use roundVector");
        };
    }

    /** {@code dst[dstOffset + i]} = what this dtype stores for the vector {@code x[offset .. offset+n)}, back in fp32. */
    public void roundVector(float[] x, int offset, int n, float[] dst, int dstOffset) {
        if (this != INT8) {
            for (int i = 0; i < n; i++) dst[dstOffset + i] = round(x[offset + i]);
            return;
        }
        float scale = int8Scale(x, offset, n);
        for (int i = 0; i < n; i++) dst[dstOffset + i] = int8Code(x[offset + i], scale) * scale;
    }

    /** INT8's scale for a vector: max|x| / 127 (0 for a zero vector). */
    static float int8Scale(float[] x, int offset, int n) {
        float largest = 0;
        for (int i = 0; i < n; i++) largest = Math.max(largest, Math.abs(x[offset + i]));
        return largest / 127f;
    }

    /** INT8's code of one element given its vector's scale: to nearest ({@link Math#round}, halves up), in [-127, 127]. */
    static byte int8Code(float x, float scale) {
        if (scale == 0) return 0;
        return (byte) Math.max(-127, Math.min(127, Math.round(x / scale)));
    }

    static short floatToBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40);  // keep NaN a NaN
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }
}
