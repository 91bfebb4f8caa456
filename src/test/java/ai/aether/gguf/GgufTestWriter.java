package ai.aether.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Test-side GGUF writer, written from the format description (not from the reader): a
 * low-level builder that writes any field, valid or not, and {@link #file} for whole valid files.
 */
public final class GgufTestWriter {

    /** A metadata entry as written: {@code value} is a Long, Double, Boolean, String or GgufArray. */
    public record Entry(String key, GgufValueType type, Object value) {
    }

    /** A tensor to write; its data is filled with a byte pattern derived from its index. */
    public record Tensor(String name, GgmlType type, long... shape) {
        long byteSize() {
            long elements = 1;
            for (long dimension : shape) elements *= dimension;
            return elements / type.blockSize() * type.bytesPerBlock();
        }
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] bytes() {
        return out.toByteArray();
    }

    int size() {
        return out.size();
    }

    GgufTestWriter raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    GgufTestWriter u8(long value) {
        out.write((int) value);
        return this;
    }

    GgufTestWriter u16(long value) {
        return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) value).array());
    }

    GgufTestWriter u32(long value) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) value).array());
    }

    GgufTestWriter u64(long value) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    GgufTestWriter f32(double value) {
        return u32(Float.floatToRawIntBits((float) value));
    }

    GgufTestWriter f64(double value) {
        return u64(Double.doubleToRawLongBits(value));
    }

    GgufTestWriter string(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        return u64(utf8.length).raw(utf8);
    }

    GgufTestWriter header(int version, long tensorCount, long kvCount) {
        return raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensorCount).u64(kvCount);
    }

    GgufTestWriter entry(Entry entry) {
        string(entry.key()).u32(entry.type().id());
        return value(entry.type(), entry.value());
    }

    GgufTestWriter value(GgufValueType type, Object value) {
        return switch (type) {
            case UINT8, INT8 -> u8((Long) value);
            case UINT16, INT16 -> u16((Long) value);
            case UINT32, INT32 -> u32((Long) value);
            case UINT64, INT64 -> u64((Long) value);
            case FLOAT32 -> f32((Double) value);
            case FLOAT64 -> f64((Double) value);
            case BOOL -> u8((Boolean) value ? 1 : 0);
            case STRING -> string((String) value);
            case ARRAY -> {
                GgufArray array = (GgufArray) value;
                u32(array.elementType().id()).u64(array.size());
                for (Object element : array.values()) value(array.elementType(), element);
                yield this;
            }
        };
    }

    GgufTestWriter tensorInfo(String name, long[] shape, int typeId, long offset) {
        string(name).u32(shape.length);
        for (long dimension : shape) u64(dimension);
        return u32(typeId).u64(offset);
    }

    GgufTestWriter padTo(long alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    /** A whole valid file: tensors laid out in order, each at an aligned offset. */
    public static byte[] file(int version, List<Entry> metadata, List<Tensor> tensors) {
        long alignment = metadata.stream().filter(e -> e.key().equals("general.alignment"))
                .map(e -> (Long) e.value()).findFirst().orElse(32L);
        GgufTestWriter writer = new GgufTestWriter().header(version, tensors.size(), metadata.size());
        metadata.forEach(writer::entry);
        long offset = 0;
        for (Tensor tensor : tensors) {
            writer.tensorInfo(tensor.name(), tensor.shape(), tensor.type().id(), offset);
            offset += Math.ceilDiv(tensor.byteSize(), alignment) * alignment;
        }
        writer.padTo(alignment);
        for (int t = 0; t < tensors.size(); t++) {
            for (long b = 0; b < tensors.get(t).byteSize(); b++) writer.u8((t * 31 + b) & 0xff);
            writer.padTo(alignment);
        }
        return writer.bytes();
    }
}
