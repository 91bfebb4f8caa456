package ai.aether.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.AbstractList;
import java.util.RandomAccess;

/** Lazy, read-only list views of metadata arrays that stay in the mapping until read. */
final class MappedArrays {

    private MappedArrays() {
    }

    /** Fixed-width scalar elements: {@code [count]} values of {@code type} starting at {@code offset}. */
    static final class Scalars extends AbstractList<Object> implements RandomAccess {
        final MemorySegment bytes;
        final long offset;
        final GgufValueType type;
        private final int count;

        Scalars(MemorySegment bytes, long offset, GgufValueType type, int count) {
            this.bytes = bytes;
            this.offset = offset;
            this.type = type;
            this.count = count;
        }

        @Override
        public int size() {
            return count;
        }

        @Override
        public Object get(int index) {
            java.util.Objects.checkIndex(index, count);
            long at = offset + (long) index * width(type);
            return switch (type) {
                case UINT8 -> (long) Byte.toUnsignedInt(bytes.get(ValueLayout.JAVA_BYTE, at));
                case INT8 -> (long) bytes.get(ValueLayout.JAVA_BYTE, at);
                case UINT16 -> (long) Short.toUnsignedInt(bytes.get(GgufCursor.I16, at));
                case INT16 -> (long) bytes.get(GgufCursor.I16, at);
                case UINT32 -> Integer.toUnsignedLong(bytes.get(GgufCursor.I32, at));
                case INT32 -> (long) bytes.get(GgufCursor.I32, at);
                case UINT64, INT64 -> bytes.get(GgufCursor.I64, at);
                case FLOAT32 -> (double) bytes.get(GgufCursor.F32, at);
                case FLOAT64 -> bytes.get(GgufCursor.F64, at);
                case BOOL -> bytes.get(ValueLayout.JAVA_BYTE, at) != 0;
                case STRING, ARRAY -> throw new IllegalStateException("not a scalar type: " + type);
            };
        }
    }

    /** Strings: {@code offsets[i]} is the byte offset of string i's UTF-8 bytes, {@code lengths[i]} their count. */
    static final class Strings extends AbstractList<Object> implements RandomAccess {
        private final MemorySegment bytes;
        private final long[] offsets; // [count]
        private final int[] lengths;  // [count]

        Strings(MemorySegment bytes, long[] offsets, int[] lengths) {
            this.bytes = bytes;
            this.offsets = offsets;
            this.lengths = lengths;
        }

        @Override
        public int size() {
            return offsets.length;
        }

        @Override
        public Object get(int index) {
            return GgufCursor.decode(bytes, offsets[index], lengths[index]);
        }
    }

    /** Bytes one element of a scalar type occupies. */
    static int width(GgufValueType type) {
        return switch (type) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64 -> 8;
            case STRING, ARRAY -> throw new IllegalArgumentException("not a scalar type: " + type);
        };
    }
}
