package ai.aether.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A GGUF v2/v3 file, memory-mapped read-only. {@link #open} validates the header, metadata and
 * tensor table; tensor data is never copied ({@link #tensorData} slices the mapping).
 * <pre>{@code
 * try (GgufFile gguf = GgufFile.open(Path.of("stories260K.gguf"))) {
 *     String arch = gguf.getString("general.architecture");           // "llama"
 *     long layers = gguf.getLong(arch + ".block_count");               // 5
 *     GgufTensorInfo embedding = gguf.tensor("token_embd.weight");    // F32 [64, 512]
 *     MemorySegment weights = gguf.tensorData(embedding);             // 131072 bytes
 * }
 * }</pre>
 * Metadata values: integers of every width are {@code Long}, floats {@code Double}, then
 * {@code Boolean}, {@code String} and {@link GgufArray}. The typed getters throw a
 * {@link GgufFormatException} naming the file and key when the key is missing or has another
 * type; the {@code find*} variants return empty for a missing key but still throw on a wrong type.
 * Segments, arrays and the metadata map's array values are valid until {@link #close()};
 * the array getters return copies that outlive it. Safe for concurrent reads.
 */
public final class GgufFile implements AutoCloseable {

    /** Alignment of tensor data when {@code general.alignment} is absent. */
    public static final long DEFAULT_ALIGNMENT = GgufParser.DEFAULT_ALIGNMENT;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping; // [fileSize] bytes, read-only
    private final GgufParser.Parsed parsed;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensorInfo> tensorsByName;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, GgufParser.Parsed parsed) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.parsed = parsed;
        this.metadata = Collections.unmodifiableMap(parsed.metadata());
        Map<String, GgufTensorInfo> byName = new HashMap<>();
        for (GgufTensorInfo info : parsed.tensors()) byName.put(info.name(), info);
        this.tensorsByName = byName;
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws GgufFormatException if the file is not a valid little-endian GGUF v2 or v3 file
     * @throws IOException         if it cannot be read
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment mapping = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asReadOnly();
            GgufParser.Parsed parsed = GgufParser.parse(new GgufCursor(path, mapping));
            return new GgufFile(path, arena, mapping, parsed);
        } catch (IOException | RuntimeException | Error failure) {
            arena.close();
            throw failure;
        }
    }

    /**
     * Asks the OS to drop the mapping's resident pages (they stay mapped and are read back on the next
     * access). Called once the weights that are copied onto the heap have been copied, so the file does
     * not count twice in the process's memory.
     */
    public void releaseResidentPages() {
        if (mapping.isMapped()) mapping.unload();
    }

    /** Unmaps the file; segments and lazy arrays obtained from it become unusable. */
    @Override
    public void close() {
        arena.close();
    }

    public Path path() {
        return path;
    }

    /** GGUF format version: 2 or 3. */
    public int version() {
        return parsed.version();
    }

    /** Alignment of tensor data in bytes ({@code general.alignment}, default 32). */
    public long alignment() {
        return parsed.alignment();
    }

    /**
     * Byte offset of the data section: the end of the tensor table rounded up to the alignment.
     * For a file without tensors it may equal or exceed the file size.
     */
    public long dataOffset() {
        return parsed.dataOffset();
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    // ---------------------------------------------------------------- metadata

    /** All metadata in file order, values as described in the class comment. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The on-disk type of {@code key} (e.g. UINT32 although the value is a {@code Long}). */
    public Optional<GgufValueType> findValueType(String key) {
        return Optional.ofNullable(parsed.types().get(key));
    }

    public boolean contains(String key) {
        return metadata.containsKey(key);
    }

    public Optional<Object> find(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    public String getString(String key) throws GgufFormatException {
        return findString(key).orElseThrow(() -> missing(key, "a string"));
    }

    public Optional<String> findString(String key) throws GgufFormatException {
        return Optional.ofNullable(typed(key, String.class, "a string"));
    }

    /** Any integer type. */
    public long getLong(String key) throws GgufFormatException {
        return findLong(key).orElseThrow(() -> missing(key, "an integer"));
    }

    public OptionalLong findLong(String key) throws GgufFormatException {
        Long value = typed(key, Long.class, "an integer");
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** Any integer type whose value fits an int. */
    public int getInt(String key) throws GgufFormatException {
        return findInt(key).orElseThrow(() -> missing(key, "an integer"));
    }

    public OptionalInt findInt(String key) throws GgufFormatException {
        OptionalLong value = findLong(key);
        if (value.isEmpty()) return OptionalInt.empty();
        return OptionalInt.of(toInt(value.getAsLong(), "metadata '" + key + "'"));
    }

    /** Any float type, or an integer type (converted). */
    public double getDouble(String key) throws GgufFormatException {
        return findDouble(key).orElseThrow(() -> missing(key, "a number"));
    }

    public OptionalDouble findDouble(String key) throws GgufFormatException {
        Number value = typed(key, Number.class, "a number");
        return value == null ? OptionalDouble.empty() : OptionalDouble.of(value.doubleValue());
    }

    public boolean getBoolean(String key) throws GgufFormatException {
        return findBoolean(key).orElseThrow(() -> missing(key, "a bool"));
    }

    public Optional<Boolean> findBoolean(String key) throws GgufFormatException {
        return Optional.ofNullable(typed(key, Boolean.class, "a bool"));
    }

    public GgufArray getArray(String key) throws GgufFormatException {
        return findArray(key).orElseThrow(() -> missing(key, "an array"));
    }

    public Optional<GgufArray> findArray(String key) throws GgufFormatException {
        return Optional.ofNullable(typed(key, GgufArray.class, "an array"));
    }

    /** An array of strings, copied. */
    public String[] getStringArray(String key) throws GgufFormatException {
        return findStringArray(key).orElseThrow(() -> missing(key, "an array of strings"));
    }

    public Optional<String[]> findStringArray(String key) throws GgufFormatException {
        Optional<GgufArray> array = findArray(key);
        if (array.isEmpty()) return Optional.empty();
        GgufArray strings = requireElements(key, array.get(), "an array of strings", GgufValueType.STRING);
        return Optional.of(strings.values().toArray(new String[0]));
    }

    /** An array of FLOAT32 or FLOAT64, copied as floats. */
    public float[] getFloatArray(String key) throws GgufFormatException {
        return findFloatArray(key).orElseThrow(() -> missing(key, "an array of floats"));
    }

    public Optional<float[]> findFloatArray(String key) throws GgufFormatException {
        Optional<GgufArray> array = findArray(key);
        if (array.isEmpty()) return Optional.empty();
        GgufArray floats = requireElements(key, array.get(), "an array of floats", GgufValueType.FLOAT32, GgufValueType.FLOAT64);
        float[] result = new float[floats.size()];
        if (floats.values() instanceof MappedArrays.Scalars mapped && mapped.type == GgufValueType.FLOAT32) {
            MemorySegment.copy(mapped.bytes, GgufCursor.F32, mapped.offset, result, 0, result.length);
        } else {
            for (int i = 0; i < result.length; i++) result[i] = ((Double) floats.get(i)).floatValue();
        }
        return Optional.of(result);
    }

    /** An array of any integer type whose values fit an int, copied. */
    public int[] getIntArray(String key) throws GgufFormatException {
        return findIntArray(key).orElseThrow(() -> missing(key, "an array of integers"));
    }

    public Optional<int[]> findIntArray(String key) throws GgufFormatException {
        Optional<GgufArray> array = findArray(key);
        if (array.isEmpty()) return Optional.empty();
        GgufArray integers = array.get();
        if (!integers.elementType().isInteger()) throw wrongType(key, "an array of integers", integers);
        int[] result = new int[integers.size()];
        if (integers.values() instanceof MappedArrays.Scalars mapped && mapped.type == GgufValueType.INT32) {
            MemorySegment.copy(mapped.bytes, GgufCursor.I32, mapped.offset, result, 0, result.length);
        } else {
            for (int i = 0; i < result.length; i++) result[i] = toInt((Long) integers.get(i), "metadata '" + key + "'[" + i + "]");
        }
        return Optional.of(result);
    }

    private <T> T typed(String key, Class<T> type, String expected) throws GgufFormatException {
        Object value = metadata.get(key);
        if (value == null) return null;
        if (!type.isInstance(value)) throw wrongType(key, expected, value);
        return type.cast(value);
    }

    private GgufArray requireElements(String key, GgufArray array, String expected, GgufValueType... allowed)
            throws GgufFormatException {
        for (GgufValueType type : allowed) if (array.elementType() == type) return array;
        throw wrongType(key, expected, array);
    }

    private int toInt(long value, String field) throws GgufFormatException {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new GgufFormatException(path, field, value + " is out of range (allowed " + Integer.MIN_VALUE + ".."
                    + Integer.MAX_VALUE + ")");
        }
        return (int) value;
    }

    private GgufFormatException missing(String key, String expected) {
        return new GgufFormatException(path, "metadata '" + key + "'", "missing (expected " + expected + ")");
    }

    private GgufFormatException wrongType(String key, String expected, Object found) {
        return new GgufFormatException(path, "metadata '" + key + "'", "expected " + expected + ", found "
                + GgufParser.describe(found) + " (" + parsed.types().get(key) + ")");
    }

    // ---------------------------------------------------------------- tensors

    /** The tensor table in file order. */
    public List<GgufTensorInfo> tensors() {
        return parsed.tensors();
    }

    public Optional<GgufTensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    public GgufTensorInfo tensor(String name) throws GgufFormatException {
        return findTensor(name).orElseThrow(() -> new GgufFormatException(path, "tensor '" + name + "'", "missing"));
    }

    /** The tensor's bytes: a read-only slice of the mapping, {@code [info.byteSize()]} bytes. */
    public MemorySegment tensorData(GgufTensorInfo info) {
        if (!info.equals(tensorsByName.get(info.name()))) {
            throw new IllegalArgumentException(info.name() + " is not a tensor of " + path);
        }
        return mapping.asSlice(parsed.dataOffset() + info.offset(), info.byteSize());
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version() + ", " + metadata.size() + " keys, " + tensors().size() + " tensors]";
    }
}
