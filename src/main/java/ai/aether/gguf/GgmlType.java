package ai.aether.gguf;

import java.util.Optional;

/**
 * Every ggml tensor type id that can appear in a GGUF file (ggml.h {@code ggml_type}), with its
 * block size (elements per block) and bytes per block. Ids 4, 5, 31-33 and 36-38 were removed
 * from ggml and are rejected as unknown. Sizes follow ggml's block structs (Q8_1 is 36 bytes:
 * two halves and 32 quants; the Python gguf package still lists an older 40). Types Aether cannot compute with still parse, so that
 * {@code inspect} can describe any file.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2),
    Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24), Q8_0(8, 32, 34), Q8_1(9, 32, 36),
    Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144), Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74), IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110), IQ2_S(22, 256, 82), IQ4_XS(23, 256, 136),
    I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8),
    IQ1_M(29, 256, 56), BF16(30, 1, 2), TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17),
    NVFP4(40, 64, 36), Q1_0(41, 128, 18);

    private static final GgmlType[] BY_ID = new GgmlType[42];

    static {
        for (GgmlType type : values()) BY_ID[type.id] = type;
    }

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The id stored in the file. */
    public int id() {
        return id;
    }

    /** Elements per block; a row length (ne0) must be a multiple of it. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes one block occupies. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** Bytes of {@code elements} values; {@code elements} must be a multiple of {@link #blockSize()}. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements of " + this + " is not a multiple of the block size " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /** The type with this on-disk id, or empty for an unknown or removed id. */
    public static Optional<GgmlType> fromId(long id) {
        return id >= 0 && id < BY_ID.length ? Optional.ofNullable(BY_ID[(int) id]) : Optional.empty();
    }
}
