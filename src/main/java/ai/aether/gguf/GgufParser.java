package ai.aether.gguf;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses and validates the header, metadata and tensor table of a mapped GGUF file. Every count,
 * length, offset, dimension and type is checked before it is used, against the file size and
 * the limits below, so the only failure a hostile file can cause is a {@link GgufFormatException}.
 */
final class GgufParser {

    static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    static final long DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    static final int MAX_DIMENSIONS = 4;
    static final int MAX_TENSOR_NAME_BYTES = 255;
    static final long MAX_ALIGNMENT = 1L << 30;
    /** Arrays of arrays deeper than this are refused (keeps recursion bounded). */
    static final int MAX_ARRAY_NESTING = 8;
    /** Smallest metadata entry: key length (8) + type (4) + a one-byte value. */
    private static final long MIN_KV_BYTES = 13;
    /** Smallest tensor info: name length (8) + 1 name byte + n_dims (4) + 1 dim (8) + type (4) + offset (8). */
    private static final long MIN_TENSOR_INFO_BYTES = 33;

    record Parsed(int version, long alignment, Map<String, Object> metadata, Map<String, GgufValueType> types,
                  List<GgufTensorInfo> tensors, long dataOffset) {
    }

    private final GgufCursor cursor;
    private final GgufLimits limits;
    /** Bytes of strings decoded so far, against {@link GgufLimits#maxDecodedBytes()}. */
    private long decodedBytes;
    /** String-array elements and nested arrays indexed so far, against {@link GgufLimits#maxIndexedItems()}. */
    private long indexedItems;

    private GgufParser(GgufCursor cursor, GgufLimits limits) {
        this.cursor = cursor;
        this.limits = limits;
    }

    static Parsed parse(GgufCursor cursor) throws GgufFormatException {
        return parse(cursor, GgufLimits.DEFAULT);
    }

    static Parsed parse(GgufCursor cursor, GgufLimits limits) throws GgufFormatException {
        return new GgufParser(cursor, limits).parse();
    }

    private Parsed parse() throws GgufFormatException {
        int magic = cursor.i32("magic");
        if (magic != MAGIC) {
            throw cursor.error("magic", String.format("bytes %08x are not \"GGUF\" (47475546): not a GGUF file",
                    Integer.reverseBytes(magic)));
        }
        int version = readVersion();
        long tensorCount = cursor.count("header tensor_count", MIN_TENSOR_INFO_BYTES);
        checkLimit(tensorCount, limits.maxTensors(), "header tensor_count");
        long kvCount = cursor.count("header metadata_kv_count", MIN_KV_BYTES);
        checkLimit(kvCount, limits.maxMetadataEntries(), "header metadata_kv_count");

        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = readString("metadata key #" + i, limits.maxStringBytes());
            String field = "metadata '" + printable(key) + "'";
            if (metadata.containsKey(key)) throw cursor.error(field, "duplicate key (entry #" + i + ")");
            GgufValueType type = valueType(cursor.u32(field + " type"), field + " type");
            types.put(key, type);
            metadata.put(key, readValue(type, field, 0));
        }
        long alignment = alignment(metadata.get(ALIGNMENT_KEY));

        List<GgufTensorInfo> tensors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            GgufTensorInfo info = readTensorInfo(i, alignment);
            if (!names.add(info.name())) throw cursor.error("tensor '" + printable(info.name()) + "'", "duplicate tensor name");
            tensors.add(info);
        }
        long headerEnd = cursor.position();
        long dataOffset = Math.ceilDiv(headerEnd, alignment) * alignment;
        checkTensorPlacement(tensors, dataOffset);
        return new Parsed(version, alignment, metadata, types, List.copyOf(tensors), dataOffset);
    }

    private int readVersion() throws GgufFormatException {
        int version = cursor.i32("header version");
        if (version == 2 || version == 3) return version;
        if (version == 1) throw cursor.error("header version", "GGUF version 1 is not supported (supported: 2, 3)");
        int swapped = Integer.reverseBytes(version);
        if (swapped == 2 || swapped == 3) {
            throw cursor.error("header version", "big-endian GGUF files are not supported (only little-endian)");
        }
        throw cursor.error("header version", Integer.toUnsignedString(version) + " is not supported (supported: 2, 3)");
    }

    private GgufValueType valueType(long id, String field) throws GgufFormatException {
        return GgufValueType.fromId(id).orElseThrow(() ->
                cursor.error(field, "unknown value type id " + id + " (allowed 0..12)"));
    }

    // ---------------------------------------------------------------- metadata values

    private Object readValue(GgufValueType type, String field, int depth) throws GgufFormatException {
        return switch (type) {
            case UINT8 -> (long) Byte.toUnsignedInt(cursor.i8(field));
            case INT8 -> (long) cursor.i8(field);
            case UINT16 -> (long) Short.toUnsignedInt(cursor.i16(field));
            case INT16 -> (long) cursor.i16(field);
            case UINT32 -> cursor.u32(field);
            case INT32 -> (long) cursor.i32(field);
            case UINT64 -> cursor.u64(field);
            case INT64 -> cursor.i64(field);
            case FLOAT32 -> (double) Float.intBitsToFloat(cursor.i32(field));
            case FLOAT64 -> Double.longBitsToDouble(cursor.i64(field));
            case BOOL -> readBool(field);
            case STRING -> readString(field, limits.maxStringBytes());
            case ARRAY -> readArray(field, depth + 1);
        };
    }

    /** A key or name as it may appear in an error message: control characters escaped, at most 80 characters. */
    static String printable(String text) {
        String shown = text.length() > 80 ? text.substring(0, 80) : text;
        StringBuilder out = new StringBuilder();
        shown.chars().forEach(c -> out.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return text.length() > 80 ? out + "..." : out.toString();
    }

    private void checkLimit(long value, long limit, String field) throws GgufFormatException {
        if (value > limit) throw cursor.error(field, value + " is out of range (allowed 0.." + limit + ")");
    }

    /** A string decoded now (keys, values, names), counted against the decoded-bytes budget. */
    private String readString(String field, long maxBytes) throws GgufFormatException {
        long length = cursor.stringLength(field, maxBytes);
        decodedBytes += length;
        if (decodedBytes > limits.maxDecodedBytes()) {
            throw cursor.error(field, "strings in the header exceed " + limits.maxDecodedBytes() + " bytes in total (allowed 0.."
                    + limits.maxDecodedBytes() + ")");
        }
        return cursor.utf8(length);
    }

    private boolean readBool(String field) throws GgufFormatException {
        byte value = cursor.i8(field);
        if (value != 0 && value != 1) throw cursor.error(field, "bool byte " + value + " is out of range (allowed 0, 1)");
        return value == 1;
    }

    private GgufArray readArray(String field, int depth) throws GgufFormatException {
        if (depth > MAX_ARRAY_NESTING) {
            throw cursor.error(field, "arrays nested " + depth + " deep (allowed 1.." + MAX_ARRAY_NESTING + ")");
        }
        GgufValueType elementType = valueType(cursor.u32(field + " element type"), field + " element type");
        long count = cursor.count(field + " array length", elementType.minEncodedBytes());
        if (count > Integer.MAX_VALUE - 8) {
            throw cursor.error(field + " array length", count + " is out of range (allowed 0.." + (Integer.MAX_VALUE - 8) + ")");
        }
        int length = (int) count;
        if (elementType == GgufValueType.STRING || elementType == GgufValueType.ARRAY) {
            indexedItems += length;
            if (indexedItems > limits.maxIndexedItems()) {
                throw cursor.error(field + " array length", length + " more strings or arrays exceed the limit of "
                        + limits.maxIndexedItems() + " in all arrays together (allowed 0.." + limits.maxIndexedItems() + ")");
            }
        }
        return switch (elementType) {
            case STRING -> readStringArray(field, length);
            case ARRAY -> {
                List<Object> nested = new ArrayList<>();
                for (int i = 0; i < length; i++) nested.add(readArray(field + "[" + i + "]", depth + 1));
                yield new GgufArray(elementType, List.copyOf(nested));
            }
            default -> readScalarArray(field, elementType, length);
        };
    }

    private GgufArray readStringArray(String field, int length) throws GgufFormatException {
        long[] offsets = new long[length]; // [length] byte offset of each string's UTF-8 bytes
        int[] lengths = new int[length];   // [length] byte length of each string
        for (int i = 0; i < length; i++) {
            lengths[i] = (int) cursor.stringLength(field + "[" + i + "]", Long.MAX_VALUE);
            offsets[i] = cursor.position();
            cursor.skip(lengths[i], field + "[" + i + "]");
        }
        return new GgufArray(GgufValueType.STRING, new MappedArrays.Strings(cursor.bytes(), offsets, lengths));
    }

    private GgufArray readScalarArray(String field, GgufValueType type, int length) throws GgufFormatException {
        long start = cursor.position();
        cursor.skip((long) length * MappedArrays.width(type), field);
        var values = new MappedArrays.Scalars(cursor.bytes(), start, type, length);
        if (type == GgufValueType.BOOL || type == GgufValueType.UINT64) {
            for (int i = 0; i < length; i++) checkArrayElement(field, type, start, i);
        }
        return new GgufArray(type, values);
    }

    private void checkArrayElement(String field, GgufValueType type, long start, int index) throws GgufFormatException {
        if (type == GgufValueType.BOOL) {
            byte value = cursor.bytes().get(ValueLayout.JAVA_BYTE, start + index);
            if (value != 0 && value != 1) {
                throw cursor.error(field + "[" + index + "]", "bool byte " + value + " is out of range (allowed 0, 1)");
            }
        } else if (cursor.bytes().get(GgufCursor.I64, start + 8L * index) < 0) {
            throw cursor.error(field + "[" + index + "]", "uint64 value is out of range (allowed 0.." + Long.MAX_VALUE + ")");
        }
    }

    private long alignment(Object value) throws GgufFormatException {
        if (value == null) return DEFAULT_ALIGNMENT;
        String field = "metadata '" + ALIGNMENT_KEY + "'";
        if (!(value instanceof Long alignment)) {
            throw cursor.error(field, "must be an integer (a power of two 1.." + MAX_ALIGNMENT + "), found " + describe(value));
        }
        if (alignment < 1 || alignment > MAX_ALIGNMENT || Long.bitCount(alignment) != 1) {
            throw cursor.error(field, alignment + " is out of range (allowed a power of two 1.." + MAX_ALIGNMENT + ")");
        }
        return alignment;
    }

    static String describe(Object value) {
        return switch (value) {
            case GgufArray array -> "an array of " + array.elementType();
            case String ignored -> "a string";
            case Long ignored -> "an integer";
            case Double ignored -> "a float";
            case Boolean ignored -> "a bool";
            default -> value.getClass().getSimpleName();
        };
    }

    // ---------------------------------------------------------------- tensor table

    private GgufTensorInfo readTensorInfo(long index, long alignment) throws GgufFormatException {
        String name = readString("tensor #" + index + " name", MAX_TENSOR_NAME_BYTES);
        String field = "tensor '" + printable(name) + "'";
        if (name.isEmpty()) throw cursor.error("tensor #" + index + " name", "empty (allowed 1.." + MAX_TENSOR_NAME_BYTES + " bytes)");
        long dimensions = cursor.u32(field + " n_dims");
        if (dimensions < 1 || dimensions > MAX_DIMENSIONS) {
            throw cursor.error(field + " n_dims", dimensions + " is out of range (allowed 1.." + MAX_DIMENSIONS + ")");
        }
        long[] shape = new long[(int) dimensions]; // ggml order: shape[0] = row length
        long elements = 1;
        for (int d = 0; d < dimensions; d++) {
            shape[d] = cursor.u64(field + " dimension " + d);
            if (shape[d] == 0) throw cursor.error(field + " dimension " + d, "0 is out of range (allowed 1.." + Long.MAX_VALUE + ")");
            try {
                elements = Math.multiplyExact(elements, shape[d]);
            } catch (ArithmeticException overflow) {
                throw cursor.error(field + " shape", Arrays.toString(shape) + ": element count overflows 64 bits");
            }
        }
        long typeId = cursor.u32(field + " type");
        GgmlType type = GgmlType.fromId(typeId).orElseThrow(() -> cursor.error(field + " type",
                "unknown ggml type id " + typeId + " (allowed " + Arrays.toString(knownTypeIds()) + ")"));
        if (shape[0] % type.blockSize() != 0) {
            throw cursor.error(field + " dimension 0", shape[0] + " is not a multiple of the " + type + " block size "
                    + type.blockSize());
        }
        long byteSize;
        try {
            byteSize = type.byteSize(elements);
        } catch (ArithmeticException overflow) {
            throw cursor.error(field + " shape", Arrays.toString(shape) + ": byte size overflows 64 bits");
        }
        long offset = cursor.u64(field + " offset");
        if (offset % alignment != 0) {
            throw cursor.error(field + " offset", offset + " is not a multiple of the alignment " + alignment);
        }
        return new GgufTensorInfo(name, type, shape, offset, byteSize);
    }

    private static int[] knownTypeIds() {
        return Arrays.stream(GgmlType.values()).mapToInt(GgmlType::id).toArray();
    }

    /** Checks every tensor's bytes lie inside the file and no two tensors overlap. */
    private void checkTensorPlacement(List<GgufTensorInfo> tensors, long dataOffset) throws GgufFormatException {
        if (tensors.isEmpty()) return;
        long fileSize = cursor.bytes().byteSize();
        if (dataOffset > fileSize) {
            throw cursor.error("data section", "starts at byte " + dataOffset + " past the end of the file (size " + fileSize + ")");
        }
        long dataSize = fileSize - dataOffset;
        for (GgufTensorInfo info : tensors) {
            if (info.byteSize() > dataSize || info.offset() > dataSize - info.byteSize()) {
                throw cursor.error("tensor '" + printable(info.name()) + "' data", info.byteSize() + " bytes at offset " + info.offset()
                        + " lie outside the data section of " + dataSize + " bytes (allowed: offset + size <= " + dataSize
                        + "; file truncated?)");
            }
        }
        List<GgufTensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            GgufTensorInfo previous = byOffset.get(i - 1);
            GgufTensorInfo current = byOffset.get(i);
            if (current.offset() < previous.offset() + previous.byteSize()) {
                throw cursor.error("tensor '" + printable(current.name()) + "' offset", current.offset() + " overlaps tensor '"
                        + printable(previous.name()) + "' (bytes " + previous.offset() + ".." + (previous.offset() + previous.byteSize()) + ")");
            }
        }
    }
}
