package ai.aether.npz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One NumPy array in memory: element type, shape (C order, last axis fastest) and the raw
 * little-endian element bytes. Arrays up to 2^31 - 1 bytes (Java array limit).
 *
 * <p>Example: {@code NpyArray.ofFloats(new float[]{1, 2, 3, 4, 5, 6}, 2, 3)} is numpy's
 * {@code np.arange(1, 7, dtype='<f4').reshape(2, 3)}.
 */
public final class NpyArray {

    private final NpyDtype dtype;
    private final int[] shape;
    private final byte[] data;  // [product(shape) * dtype.bytes()] little-endian, C order

    /**
     * @param data element bytes, little-endian, C order; length must be product(shape) * dtype.bytes()
     */
    public NpyArray(NpyDtype dtype, int[] shape, byte[] data) {
        if (dtype == null) throw new IllegalArgumentException("dtype must not be null");
        long elements = elementCount(shape);
        if ((long) data.length != elements * dtype.bytes()) {
            throw new IllegalArgumentException("data has " + data.length + " bytes, shape " + Arrays.toString(shape)
                    + " of " + dtype.descr() + " needs " + elements * dtype.bytes());
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
    }

    /** Product of the dimensions (1 for a scalar's empty shape); rejects negative dimensions. */
    public static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape dimensions must be >= 0, got " + Arrays.toString(shape));
            n *= d;
            if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("array of shape " + Arrays.toString(shape) + " exceeds 2^31-1 elements");
        }
        return n;
    }

    public static NpyArray ofFloats(float[] values, int... shape) {
        checkLength(values.length, shape);
        ByteBuffer b = buffer(values.length * 4);
        b.asFloatBuffer().put(values);
        return new NpyArray(NpyDtype.FLOAT32, shape, b.array());
    }

    /** Stores {@code values} as float16 (round to nearest even). */
    public static NpyArray ofFloat16(float[] values, int... shape) {
        checkLength(values.length, shape);
        ByteBuffer b = buffer(values.length * 2);
        for (float v : values) b.putShort(Float.floatToFloat16(v));
        return new NpyArray(NpyDtype.FLOAT16, shape, b.array());
    }

    public static NpyArray ofInts(int[] values, int... shape) {
        checkLength(values.length, shape);
        ByteBuffer b = buffer(values.length * 4);
        b.asIntBuffer().put(values);
        return new NpyArray(NpyDtype.INT32, shape, b.array());
    }

    public static NpyArray ofLongs(long[] values, int... shape) {
        checkLength(values.length, shape);
        ByteBuffer b = buffer(values.length * 8);
        b.asLongBuffer().put(values);
        return new NpyArray(NpyDtype.INT64, shape, b.array());
    }

    private static void checkLength(int length, int[] shape) {
        long n = elementCount(shape);
        if (n != length) {
            throw new IllegalArgumentException(length + " values do not fill shape " + Arrays.toString(shape) + " (" + n + " elements)");
        }
    }

    private static ByteBuffer buffer(long bytes) {
        if (bytes > Integer.MAX_VALUE) throw new IllegalArgumentException("array of " + bytes + " bytes exceeds 2^31-1");
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    public NpyDtype dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Number of axes. */
    public int rank() {
        return shape.length;
    }

    /** Size of axis {@code axis}. */
    public int dim(int axis) {
        return shape[axis];
    }

    public int size() {
        return (int) elementCount(shape);
    }

    /** The raw element bytes (little-endian, C order); not a copy. */
    byte[] rawData() {
        return data;
    }

    private ByteBuffer view() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Elements as float (float32 and float16 exactly; int32 and int64 converted). */
    public float[] toFloatArray() {
        float[] out = new float[size()];
        ByteBuffer b = view();
        switch (dtype) {
            case FLOAT32 -> b.asFloatBuffer().get(out);
            case FLOAT16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(b.getShort(2 * i)); }
            case INT32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(4 * i); }
            case INT64 -> { for (int i = 0; i < out.length; i++) out[i] = b.getLong(8 * i); }
        }
        return out;
    }

    /** Elements of an integer array as long. */
    public long[] toLongArray() {
        long[] out = new long[size()];
        ByteBuffer b = view();
        switch (dtype) {
            case INT32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(4 * i); }
            case INT64 -> b.asLongBuffer().get(out);
            default -> throw new IllegalStateException("toLongArray needs an integer array, this one is " + dtype.descr());
        }
        return out;
    }

    /** Elements of an integer array as int; int64 values outside the int range are rejected. */
    public int[] toIntArray() {
        long[] wide = toLongArray();
        int[] out = new int[wide.length];
        for (int i = 0; i < wide.length; i++) {
            if (wide[i] != (int) wide[i]) throw new IllegalStateException("element " + i + " = " + wide[i] + " does not fit in int32");
            out[i] = (int) wide[i];
        }
        return out;
    }

    @Override
    public String toString() {
        return "NpyArray(" + dtype.descr() + ", shape " + Arrays.toString(shape) + ")";
    }
}
