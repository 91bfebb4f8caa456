package ai.aether.kernels.quant;

/**
 * Weight storage formats the matmul kernels read directly (ggml block layouts, little-endian).
 * Each row of a matrix is a sequence of blocks; a block holds {@link #blockSize} values in
 * {@link #bytesPerBlock} bytes. The kernels never expand a whole matrix to floats.
 *
 * <pre>
 * F32   1 value,   4 bytes
 * F16   1 value,   2 bytes (IEEE half)
 * BF16  1 value,   2 bytes (upper half of an fp32)
 * Q8_0  32 values, 34 bytes: fp16 d, int8 q[32];                      x = d*q
 * Q4_0  32 values, 18 bytes: fp16 d, u8 qs[16] (lo nibble = j, hi = j+16); x = d*(q-8)
 * Q4_1  32 values, 20 bytes: fp16 d, fp16 m, u8 qs[16];              x = d*q + m
 * Q4_K  256 values, 144 bytes: fp16 d, fp16 dmin, u8 scales[12] (8 x 6-bit scale/min), u8 qs[128]
 * Q5_K  256 values, 176 bytes: fp16 d, fp16 dmin, u8 scales[12], u8 qh[32], u8 qs[128]
 * Q6_K  256 values, 210 bytes: u8 ql[128], u8 qh[64], i8 scales[16], fp16 d
 * </pre>
 */
public enum WeightFormat {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    Q8_0(32, 34),
    Q4_0(32, 18),
    Q4_1(32, 20),
    Q4_K(256, 144),
    Q5_K(256, 176),
    Q6_K(256, 210);

    private final int blockSize;
    private final int bytesPerBlock;

    WeightFormat(int blockSize, int bytesPerBlock) {
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** Values per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** Bytes of one row of {@code cols} values; {@code cols} must be a whole number of blocks. */
    public long rowBytes(int cols) {
        if (cols <= 0 || cols % blockSize != 0) {
            throw new IllegalArgumentException(name() + " rows must hold a positive multiple of " + blockSize
                    + " values, got " + cols);
        }
        return (long) cols / blockSize * bytesPerBlock;
    }

    /** The kernel that decodes and multiplies rows of this format. */
    RowKernel kernel() {
        return switch (this) {
            case F32 -> FloatRowKernels.F32;
            case F16 -> FloatRowKernels.F16;
            case BF16 -> FloatRowKernels.BF16;
            case Q8_0 -> Q8_0F32VectorKernel.INSTANCE;
            case Q4_0 -> Q4F32VectorKernel.Q4_0;
            case Q4_1 -> Q4F32VectorKernel.Q4_1;
            case Q4_K -> KQuantRowKernels.Q4_K;
            case Q5_K -> KQuantRowKernels.Q5_K;
            case Q6_K -> KQuantRowKernels.Q6_K;
        };
    }
}
