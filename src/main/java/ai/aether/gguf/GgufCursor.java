package ai.aether.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A bounds-checked little-endian reader over the mapped file. Every read first checks that the
 * bytes exist and otherwise throws a {@link GgufFormatException} naming the field, so a hostile
 * file can never cause an out-of-bounds access.
 */
final class GgufCursor {

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Longest string Java can hold in one byte array. */
    private static final long MAX_STRING_BYTES = Integer.MAX_VALUE - 8;

    private final Path file;
    private final MemorySegment bytes;
    private long position;

    GgufCursor(Path file, MemorySegment bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    MemorySegment bytes() {
        return bytes;
    }

    long position() {
        return position;
    }

    long remaining() {
        return bytes.byteSize() - position;
    }

    GgufFormatException error(String field, String problem) {
        return new GgufFormatException(file, field, problem);
    }

    /** Checks that {@code count} bytes remain for {@code field}. */
    void require(long count, String field) throws GgufFormatException {
        if (count < 0 || count > remaining()) {
            throw error(field, "file truncated: needs " + Long.toUnsignedString(count) + " bytes at byte " + position
                    + " but only " + remaining() + " remain (file size " + bytes.byteSize() + ")");
        }
    }

    void skip(long count, String field) throws GgufFormatException {
        require(count, field);
        position += count;
    }

    byte i8(String field) throws GgufFormatException {
        require(1, field);
        return bytes.get(ValueLayout.JAVA_BYTE, position++);
    }

    short i16(String field) throws GgufFormatException {
        require(2, field);
        short value = bytes.get(I16, position);
        position += 2;
        return value;
    }

    int i32(String field) throws GgufFormatException {
        require(4, field);
        int value = bytes.get(I32, position);
        position += 4;
        return value;
    }

    long u32(String field) throws GgufFormatException {
        return Integer.toUnsignedLong(i32(field));
    }

    long i64(String field) throws GgufFormatException {
        require(8, field);
        long value = bytes.get(I64, position);
        position += 8;
        return value;
    }

    /** A uint64 that must fit a Java long (every size, count and offset in a real file does). */
    long u64(String field) throws GgufFormatException {
        long value = i64(field);
        if (value < 0) {
            throw error(field, Long.toUnsignedString(value) + " is out of range (allowed 0.." + Long.MAX_VALUE + ")");
        }
        return value;
    }

    /** A count of items each at least {@code minItemBytes} long: bounded by the bytes left. */
    long count(String field, long minItemBytes) throws GgufFormatException {
        long count = u64(field);
        long limit = remaining() / minItemBytes;
        if (count > limit) {
            throw error(field, count + " is out of range: the remaining " + remaining() + " bytes hold at most " + limit
                    + " (allowed 0.." + limit + ")");
        }
        return count;
    }

    /** Decodes the next {@code length} bytes (already checked by {@link #stringLength}) as UTF-8. */
    String utf8(long length) {
        String value = decode(bytes, position, length);
        position += length;
        return value;
    }

    /** Reads a string's length prefix and checks the bytes exist; leaves the cursor on them. */
    long stringLength(String field, long maxBytes) throws GgufFormatException {
        long length = u64(field + " length");
        long limit = Math.min(Math.min(maxBytes, MAX_STRING_BYTES), remaining());
        if (length > limit) {
            throw error(field + " length", length + " is out of range (allowed 0.." + limit + ")");
        }
        return length;
    }

    static String decode(MemorySegment bytes, long offset, long length) {
        byte[] utf8 = new byte[(int) length];
        MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, offset, utf8, 0, utf8.length);
        return new String(utf8, StandardCharsets.UTF_8);
    }
}
