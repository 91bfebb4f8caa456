package ai.aether.kernels.quant;

/**
 * Plain scalar decoding of ggml blocks into doubles, written from the block layouts
 * independently of the kernels, as the oracle for the kernel tests.
 */
final class ReferenceDequantizer {
    private ReferenceDequantizer() {}

    static int u8(byte[] b, int i) { return b[i] & 0xFF; }

    static double half(byte[] b, int i) {
        return Float.float16ToFloat((short) (u8(b, i) | (u8(b, i + 1) << 8)));
    }

    /** All values of a row of {@code cols} values starting at byte {@code off}. */
    static double[] row(WeightFormat format, byte[] b, int off, int cols) {
        double[] out = new double[cols];
        switch (format) {
            case F32 -> { for (int i = 0; i < cols; i++) out[i] = Float.intBitsToFloat(u8(b, off + 4 * i) | u8(b, off + 4 * i + 1) << 8 | u8(b, off + 4 * i + 2) << 16 | u8(b, off + 4 * i + 3) << 24); }
            case F16 -> { for (int i = 0; i < cols; i++) out[i] = half(b, off + 2 * i); }
            case BF16 -> { for (int i = 0; i < cols; i++) out[i] = Float.intBitsToFloat((u8(b, off + 2 * i) | u8(b, off + 2 * i + 1) << 8) << 16); }
            case Q8_0 -> {
                for (int blk = 0; blk < cols / 32; blk++) {
                    int p = off + blk * 34;
                    double d = half(b, p);
                    for (int j = 0; j < 32; j++) out[blk * 32 + j] = d * b[p + 2 + j];
                }
            }
            case Q4_0, Q4_1 -> {
                boolean q41 = format == WeightFormat.Q4_1;
                int size = q41 ? 20 : 18;
                for (int blk = 0; blk < cols / 32; blk++) {
                    int p = off + blk * size;
                    double d = half(b, p);
                    double m = q41 ? half(b, p + 2) : 0;
                    int qs = p + (q41 ? 4 : 2);
                    for (int j = 0; j < 16; j++) {
                        int lo = u8(b, qs + j) & 15, hi = u8(b, qs + j) >> 4;
                        out[blk * 32 + j] = q41 ? d * lo + m : d * (lo - 8);
                        out[blk * 32 + j + 16] = q41 ? d * hi + m : d * (hi - 8);
                    }
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = format == WeightFormat.Q5_K;
                int size = five ? 176 : 144;
                for (int blk = 0; blk < cols / 256; blk++) {
                    int p = off + blk * size;
                    double d = half(b, p), dmin = half(b, p + 2);
                    int sc = p + 4, qh = p + 16, qs = five ? p + 48 : p + 16;
                    for (int sub = 0; sub < 8; sub++) {
                        int scale, min;
                        if (sub < 4) {
                            scale = u8(b, sc + sub) & 63;
                            min = u8(b, sc + sub + 4) & 63;
                        } else {
                            scale = (u8(b, sc + sub + 4) & 15) | ((u8(b, sc + sub - 4) >> 6) << 4);
                            min = (u8(b, sc + sub + 4) >> 4) | ((u8(b, sc + sub) >> 6) << 4);
                        }
                        for (int l = 0; l < 32; l++) {
                            int byteOfPair = u8(b, qs + (sub / 2) * 32 + l);
                            int q = sub % 2 == 0 ? byteOfPair & 15 : byteOfPair >> 4;
                            if (five) q += ((u8(b, qh + l) >> sub) & 1) * 16;
                            out[blk * 256 + sub * 32 + l] = d * scale * q - dmin * min;
                        }
                    }
                }
            }
            case Q6_K -> {
                for (int blk = 0; blk < cols / 256; blk++) {
                    int p = off + blk * 210;
                    double d = half(b, p + 208);
                    for (int i = 0; i < 256; i++) {
                        int half128 = i / 128, within = i % 128, quarter = within / 32, l = within % 32;
                        int ql = u8(b, p + half128 * 64 + (quarter % 2) * 32 + l);
                        int low = quarter < 2 ? ql & 15 : ql >> 4;
                        int high = (u8(b, p + 128 + half128 * 32 + l) >> (2 * quarter)) & 3;
                        int scale = b[p + 192 + half128 * 8 + quarter * 2 + l / 16];
                        out[blk * 256 + i] = d * scale * ((low | high << 4) - 32);
                    }
                }
            }
        }
        return out;
    }
}
