package ai.aether.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the tensor table.
 *
 * @param name     tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param type     storage type
 * @param shape    dimensions in ggml order: {@code shape[0]} (ne0) is the row length, the
 *                 contiguous dimension; a matrix of {@code rows x cols} is {@code [cols, rows]}
 * @param offset   byte offset of the data relative to the start of the data section
 *                 ({@link GgufFile#dataOffset()}), as stored in the file
 * @param byteSize bytes of data
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {

    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
    }

    /** A copy of the shape (ggml order). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions (1..4). */
    public int dimensions() {
        return shape.length;
    }

    /** Size of dimension {@code index} in ggml order (0 = row length). */
    public long dimension(int index) {
        return shape[index];
    }

    /** Total number of elements. */
    public long elementCount() {
        long count = 1;
        for (long dimension : shape) count = Math.multiplyExact(count, dimension);
        return count;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof GgufTensorInfo that && name.equals(that.name) && type == that.type
                && Arrays.equals(shape, that.shape) && offset == that.offset && byteSize == that.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape), offset, byteSize);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset + " (" + byteSize + " B)";
    }
}
