package ai.aether.attention;

/**
 * The 8-bit quantised key box of one block and KV head (docs/research-kv-selection.md): the
 * per-channel range {@code [lo_d, hi_d]} of the block's stored keys on one affine grid shared by all
 * channels, with the codes rounded OUTWARD so the decoded box contains every key:
 * <pre>
 *   lo'_d = off + step * L_d  <=  lo_d        hi'_d = off + step * H_d  >=  hi_d        L_d, H_d in 0..255
 * </pre>
 * {@code off} (at most the smallest key value) and {@code step} (at least range / 255) are fp16.
 * Every fp16 value is a multiple of 2^-24 below 2^16, so {@code off + step * code} is exact in
 * float64 and the containment is checked exactly when encoding.
 *
 * <p>Record layout, {@code 2D + 4} bytes ({@link #recordBytes}): {@code [L_0 .. L_{D-1}][H_0 .. H_{D-1}]}
 * stored as {@code code - 128} (signed bytes, so the radar widens them with one signed conversion),
 * then {@code off} and {@code step} as little-endian fp16. Keys outside the fp16 range (possible
 * with BF16 / FP32 KV) get an UNBOUNDED record ({@code step} = +infinity): the radar scores such a
 * block +infinity, so it is always kept and every bound stays valid.
 */
final class QuantizedBox {

    /** Largest code. */
    static final int LEVELS = 255;
    /** Stored byte = code - CODE_BIAS. */
    static final int CODE_BIAS = 128;

    private static final short FP16_ONE = Float.floatToFloat16(1f);
    private static final short FP16_INFINITY = Float.floatToFloat16(Float.POSITIVE_INFINITY);

    private QuantizedBox() {}

    /** Bytes of one record for head dimension {@code dim}. */
    static int recordBytes(int dim) {
        return 2 * dim + 4;
    }

    /**
     * Encodes the box {@code [lo_d, hi_d]} (each value a float, lo <= hi) into {@code out[base .. base + 2 dim + 4)}.
     *
     * @param lo {@code [dim]} per-channel minimum of the stored keys
     * @param hi {@code [dim]} per-channel maximum
     */
    static void encode(double[] lo, double[] hi, int dim, byte[] out, int base) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int d = 0; d < dim; d++) {
            min = Math.min(min, lo[d]);
            max = Math.max(max, hi[d]);
        }
        short off = fp16AtMost(min);
        short step = fp16AtLeast((max - fp16(off)) / LEVELS);
        if (!Float.isFinite(Float.float16ToFloat(off)) || !Float.isFinite(Float.float16ToFloat(step))) {
            writeUnbounded(dim, out, base);
            return;
        }
        if (max == fp16(off)) step = FP16_ONE;  // a single point: every code 0
        // The division above rounds: widen step until the top code reaches max.
        while (fp16(off) + LEVELS * fp16(step) < max) {
            step = nextUp(step);
            if (!Float.isFinite(Float.float16ToFloat(step))) {
                writeUnbounded(dim, out, base);
                return;
            }
        }
        double o = fp16(off), s = fp16(step);
        for (int d = 0; d < dim; d++) {
            int low = (int) Math.clamp(Math.floor((lo[d] - o) / s), 0, LEVELS);
            while (low > 0 && o + s * low > lo[d]) low--;
            while (low < LEVELS && o + s * (low + 1) <= lo[d]) low++;  // tightest code still below lo
            int high = (int) Math.clamp(Math.ceil((hi[d] - o) / s), 0, LEVELS);
            while (high < LEVELS && o + s * high < hi[d]) high++;
            while (high > 0 && o + s * (high - 1) >= hi[d]) high--;
            out[base + d] = (byte) (low - CODE_BIAS);
            out[base + dim + d] = (byte) (high - CODE_BIAS);
        }
        putFp16(out, base + 2 * dim, off);
        putFp16(out, base + 2 * dim + 2, step);
    }

    private static void writeUnbounded(int dim, byte[] out, int base) {
        for (int i = 0; i < 2 * dim; i++) out[base + i] = (byte) -CODE_BIAS;
        putFp16(out, base + 2 * dim, (short) 0);
        putFp16(out, base + 2 * dim + 2, FP16_INFINITY);
    }

    // ---- reading a record ----

    /** The grid offset (fp16 value). */
    static float offset(byte[] records, int base, int dim) {
        return Float.float16ToFloat(getFp16(records, base + 2 * dim));
    }

    /** The grid step (fp16 value); +infinity marks an UNBOUNDED record. */
    static float step(byte[] records, int base, int dim) {
        return Float.float16ToFloat(getFp16(records, base + 2 * dim + 2));
    }

    /** Code L_d of the lower corner, 0..255. */
    static int lowCode(byte[] records, int base, int d) {
        return records[base + d] + CODE_BIAS;
    }

    /** Code H_d of the upper corner, 0..255. */
    static int highCode(byte[] records, int base, int dim, int d) {
        return records[base + dim + d] + CODE_BIAS;
    }

    // ---- fp16 with directed rounding ----

    private static double fp16(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** The largest fp16 value <= x (-infinity below the fp16 range). */
    static short fp16AtMost(double x) {
        short bits = Float.floatToFloat16((float) x);
        while (fp16(bits) > x) bits = nextDown(bits);
        return bits;
    }

    /** The smallest fp16 value >= x, for x >= 0 (+infinity above the fp16 range). */
    static short fp16AtLeast(double x) {
        short bits = Float.floatToFloat16((float) x);
        while (fp16(bits) < x) bits = nextUp(bits);
        return bits;
    }

    private static short nextUp(short bits) {
        if (bits == (short) 0x8000) return 0x0001;          // -0 -> smallest positive
        return (short) (bits >= 0 ? bits + 1 : bits - 1);   // positive: away from 0; negative: towards 0
    }

    private static short nextDown(short bits) {
        if (bits == 0) return (short) 0x8001;                // +0 -> smallest negative
        return (short) (bits > 0 ? bits - 1 : bits + 1);     // positive: towards 0; negative: away from 0
    }

    private static void putFp16(byte[] out, int at, short bits) {
        out[at] = (byte) bits;
        out[at + 1] = (byte) (bits >> 8);
    }

    private static short getFp16(byte[] in, int at) {
        return (short) ((in[at] & 0xff) | (in[at + 1] << 8));
    }
}
