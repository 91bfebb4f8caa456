package ai.aether.attention;

import java.util.Arrays;

/**
 * A small dense fp32 tensor for the low-level API: row-major data and its shape, validated.
 *
 * @param data  row-major elements, {@code product(shape)} of them
 * @param shape dimension sizes, each >= 1
 */
public record Tensor(float[] data, int[] shape) {

    public Tensor {
        if (data == null) throw new IllegalArgumentException("tensor data must not be null");
        if (shape == null || shape.length == 0) throw new IllegalArgumentException("tensor shape must have at least one dimension");
        long n = 1;
        for (int d : shape) {
            if (d < 1) throw new IllegalArgumentException("tensor dimensions must be >= 1, got shape " + Arrays.toString(shape));
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " elements, data has " + data.length);
        }
        shape = shape.clone();
    }

    public static Tensor of(float[] data, int... shape) {
        return new Tensor(data, shape);
    }

    public static Tensor zeros(int... shape) {
        long n = 1;
        for (int d : shape) n *= Math.max(d, 0);
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " is too large");
        return new Tensor(new float[(int) n], shape);
    }

    public int rank() { return shape.length; }

    public int dim(int axis) { return shape[axis]; }

    @Override
    public int[] shape() { return shape.clone(); }

    /** Throws unless the tensor has {@code rank} dimensions, naming it {@code name} and the expected layout. */
    Tensor requireRank(String name, int rank, String layout) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(name + " must have shape " + layout + ", got " + Arrays.toString(shape));
        }
        return this;
    }

    /** Throws at the first NaN or infinity. */
    Tensor requireFinite(String name) {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) throw new IllegalArgumentException(name + " holds " + data[i] + " at flat index " + i + "; values must be finite");
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
