package ai.aether.kernels.attention;

/**
 * Storage type of cached keys and values. Arithmetic is always fp32: FP16 and BF16 rows are
 * widened to fp32 (exactly) when a block is read.
 */
public enum KvDtype {
    FP32(4),
    /** IEEE 754 binary16: 10 mantissa bits, relative rounding error <= 2^-11. */
    FP16(2),
    /** bfloat16: fp32's exponent, 7 mantissa bits, relative rounding error <= 2^-8. */
    BF16(2);

    private final int bytes;

    KvDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per stored element. */
    public int bytes() {
        return bytes;
    }

    /** The value this dtype stores for {@code x}, back in fp32 (round to nearest even). */
    public float round(float x) {
        return switch (this) {
            case FP32 -> x;
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(x));
            case BF16 -> bf16ToFloat(floatToBf16(x));
        };
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
