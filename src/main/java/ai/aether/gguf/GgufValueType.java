package ai.aether.gguf;

import java.util.Optional;

/**
 * The type tag of a GGUF metadata value, with its on-disk id (gguf.h {@code gguf_type}).
 * In Java, every integer type becomes a {@code Long} (unsigned types widened; UINT64 values
 * above {@code Long.MAX_VALUE} are rejected), both float types a {@code Double}.
 */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4),
    FLOAT32(6, 4), BOOL(7, 1), STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private static final GgufValueType[] BY_ID = new GgufValueType[13];

    static {
        for (GgufValueType type : values()) BY_ID[type.id] = type;
    }

    private final int id;
    /** Smallest encoding of one value in bytes (strings: the length prefix; arrays: type + count). */
    private final int minEncodedBytes;

    GgufValueType(int id, int minEncodedBytes) {
        this.id = id;
        this.minEncodedBytes = minEncodedBytes;
    }

    /** The id stored in the file. */
    public int id() {
        return id;
    }

    int minEncodedBytes() {
        return minEncodedBytes;
    }

    /** Whether values of this type are integers ({@code Long} in Java). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** Whether values of this type are floating point ({@code Double} in Java). */
    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The type with this on-disk id, or empty for an unknown id. */
    public static Optional<GgufValueType> fromId(long id) {
        return id >= 0 && id < BY_ID.length ? Optional.of(BY_ID[(int) id]) : Optional.empty();
    }
}
