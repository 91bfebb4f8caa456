package ai.aether.npz;

/**
 * The NumPy element types this package reads and writes: little-endian float32, float16,
 * int32 and int64 (descr strings {@code <f4}, {@code <f2}, {@code <i4}, {@code <i8}).
 */
public enum NpyDtype {
    FLOAT32("<f4", 4),
    FLOAT16("<f2", 2),
    INT32("<i4", 4),
    INT64("<i8", 8);

    private final String descr;
    private final int bytes;

    NpyDtype(String descr, int bytes) {
        this.descr = descr;
        this.bytes = bytes;
    }

    /** NumPy's type string, e.g. {@code <f4}. */
    public String descr() {
        return descr;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for the floating-point types. */
    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT16;
    }

    /**
     * The dtype for a NumPy descr string. the {@code =} (native) byte-order mark is read as
     * little-endian for these types (numpy writes {@code <} on little-endian machines).
     *
     * @throws IllegalArgumentException naming the descr and the supported set
     */
    public static NpyDtype fromDescr(String descr) {
        String normalised = descr.startsWith("=") ? "<" + descr.substring(1) : descr;
        for (NpyDtype t : values()) {
            if (t.descr.equals(normalised)) return t;
        }
        throw new IllegalArgumentException("unsupported dtype '" + descr + "' (supported: <f4, <f2, <i4, <i8, little-endian)");
    }
}
