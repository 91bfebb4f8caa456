package ai.aether.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static ai.aether.gguf.GgufTestWriter.Entry;
import static ai.aether.gguf.GgufTestWriter.Tensor;
import static org.junit.jupiter.api.Assertions.*;

/** Each malformed-file rule on a minimal hand-built file: a GgufFormatException naming file, field and range. */
class GgufValidationTest {

    @TempDir
    Path directory;

    private Path write(byte[] bytes) throws IOException {
        Path file = directory.resolve("bad.gguf");
        Files.write(file, bytes);
        return file;
    }

    /** Opens the bytes, expects a GgufFormatException whose message holds the file name and every fragment. */
    private GgufFormatException rejects(byte[] bytes, String... fragments) throws IOException {
        Path file = write(bytes);
        GgufFormatException error = assertThrows(GgufFormatException.class, () -> GgufFile.open(file).close());
        assertTrue(error.getMessage().startsWith(file.toString() + ": "), error.getMessage());
        for (String fragment : fragments) assertTrue(error.getMessage().contains(fragment), error.getMessage());
        return error;
    }

    private static GgufTestWriter header(long tensors, long kvs) {
        return new GgufTestWriter().header(3, tensors, kvs);
    }

    /** One tensor-info record in an otherwise valid file with no metadata, then enough data bytes. */
    private static byte[] oneTensor(String name, long[] shape, int typeId, long offset, int dataBytes) {
        GgufTestWriter writer = header(1, 0).tensorInfo(name, shape, typeId, offset).padTo(32);
        return writer.raw(new byte[dataBytes]).bytes();
    }

    @Test
    void validMinimalFilesOpen() throws IOException {
        try (GgufFile gguf = GgufFile.open(write(header(0, 0).bytes()))) {
            assertEquals(3, gguf.version());
            assertEquals(32, gguf.alignment());
            assertTrue(gguf.metadata().isEmpty() && gguf.tensors().isEmpty());
        }
        try (GgufFile gguf = GgufFile.open(write(oneTensor("w", new long[]{32, 2}, GgmlType.Q8_0.id(), 0, 68)))) {
            assertEquals(68, gguf.tensors().getFirst().byteSize());
            assertEquals(96, gguf.dataOffset()); // 65 header and table bytes, rounded up to 32
        }
        byte[] version2 = new GgufTestWriter().header(2, 0, 1).entry(new Entry("a", GgufValueType.UINT8, 7L)).bytes();
        try (GgufFile gguf = GgufFile.open(write(version2))) {
            assertEquals(2, gguf.version());
            assertEquals(7L, gguf.getLong("a"));
        }
    }

    @Test
    void headerProblems() throws IOException {
        rejects(new byte[0], "magic", "truncated");
        rejects(new byte[]{'G', 'G', 'U'}, "magic", "truncated");
        rejects("GGML\3\0\0\0".getBytes(), "magic", "not a GGUF file");
        rejects(new GgufTestWriter().header(1, 0, 0).bytes(), "version", "version 1 is not supported (supported: 2, 3)");
        rejects(new GgufTestWriter().header(4, 0, 0).bytes(), "version", "4 is not supported (supported: 2, 3)");
        rejects(new GgufTestWriter().header(Integer.reverseBytes(3), 0, 0).bytes(), "version", "big-endian");
        rejects(new GgufTestWriter().raw("GGUF".getBytes()).u32(3).u32(0).bytes(), "tensor_count", "truncated");
        rejects(header(1L << 40, 0).bytes(), "tensor_count", "out of range", "allowed 0..");
        rejects(header(0, -1).bytes(), "metadata_kv_count", "18446744073709551615", "out of range");
        rejects(header(0, 1).bytes(), "metadata_kv_count", "out of range");
    }

    @Test
    void metadataProblems() throws IOException {
        rejects(header(0, 1).u64(1L << 50).raw(new byte[20]).bytes(), "metadata key #0 length", "out of range");
        rejects(header(0, 1).string("k").u32(13).u64(0).bytes(), "metadata 'k' type", "unknown value type id 13 (allowed 0..12)");
        rejects(header(0, 1).string("k").u32(GgufValueType.STRING.id()).u64(100).raw(new byte[5]).bytes(),
                "metadata 'k' length", "out of range (allowed 0..5)");
        rejects(header(0, 1).string("k").u32(GgufValueType.BOOL.id()).u8(2).bytes(), "metadata 'k'", "bool byte 2");
        rejects(header(0, 1).string("k").u32(GgufValueType.UINT64.id()).u64(-5).bytes(), "metadata 'k'", "out of range");
        rejects(header(0, 1).string("k").u32(GgufValueType.UINT32.id()).u8(1).bytes(), "metadata 'k'", "truncated");
        rejects(header(0, 2).entry(new Entry("k", GgufValueType.INT8, 1L)).entry(new Entry("k", GgufValueType.INT8, 2L)).bytes(),
                "metadata 'k'", "duplicate key");
        rejects(header(0, 1).string("a").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.INT32.id()).u64(1L << 40)
                .raw(new byte[16]).bytes(), "metadata 'a' array length", "out of range");
        rejects(header(0, 1).string("a").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id()).u64(2)
                .string("x").u64(1L << 40).raw(new byte[8]).bytes(), "metadata 'a'[1] length", "out of range");
        rejects(header(0, 1).string("a").u32(GgufValueType.ARRAY.id()).u32(77).u64(0).bytes(),
                "metadata 'a' element type", "unknown value type id 77");
        GgufTestWriter deep = header(0, 1).string("a").u32(GgufValueType.ARRAY.id());
        for (int level = 0; level < 12; level++) deep.u32(GgufValueType.ARRAY.id()).u64(1);
        rejects(deep.u32(GgufValueType.INT8.id()).u64(0).bytes(), "metadata 'a'", "nested", "allowed 1..8");
    }

    @Test
    void alignmentProblems() throws IOException {
        rejects(header(0, 1).entry(new Entry("general.alignment", GgufValueType.UINT32, 48L)).bytes(),
                "general.alignment", "48 is out of range (allowed a power of two 1..1073741824)");
        rejects(header(0, 1).entry(new Entry("general.alignment", GgufValueType.UINT32, 0L)).bytes(), "general.alignment");
        rejects(header(0, 1).entry(new Entry("general.alignment", GgufValueType.STRING, "32")).bytes(),
                "general.alignment", "must be an integer");
        try (GgufFile gguf = GgufFile.open(write(GgufTestWriter.file(3,
                List.of(new Entry("general.alignment", GgufValueType.UINT32, 64L)), List.of(new Tensor("t", GgmlType.F32, 3)))))) {
            assertEquals(64, gguf.alignment());
            assertEquals(0, gguf.dataOffset() % 64);
        }
    }

    @Test
    void tensorTableProblems() throws IOException {
        int f32 = GgmlType.F32.id();
        rejects(oneTensor("t", new long[]{}, f32, 0, 64), "tensor 't' n_dims", "0 is out of range (allowed 1..4)");
        rejects(oneTensor("t", new long[]{1, 1, 1, 1, 1}, f32, 0, 64), "tensor 't' n_dims", "5 is out of range (allowed 1..4)");
        rejects(oneTensor("t", new long[]{4, 0}, f32, 0, 64), "tensor 't' dimension 1", "0 is out of range");
        rejects(oneTensor("t", new long[]{-1}, f32, 0, 64), "tensor 't' dimension 0", "out of range");
        rejects(oneTensor("t", new long[]{1L << 40, 1L << 40}, f32, 0, 64), "tensor 't' shape", "overflows");
        rejects(oneTensor("t", new long[]{1L << 62}, f32, 0, 64), "tensor 't' shape", "byte size overflows");
        rejects(oneTensor("t", new long[]{4}, 4, 0, 64), "tensor 't' type", "unknown ggml type id 4");
        rejects(oneTensor("t", new long[]{4}, 99, 0, 64), "tensor 't' type", "unknown ggml type id 99");
        rejects(oneTensor("t", new long[]{31}, GgmlType.Q8_0.id(), 0, 64), "tensor 't' dimension 0",
                "not a multiple of the Q8_0 block size 32");
        rejects(oneTensor("t", new long[]{4}, f32, 16, 64), "tensor 't' offset", "not a multiple of the alignment 32");
        rejects(oneTensor("t", new long[]{64}, f32, 0, 100), "tensor 't' data", "outside", "truncated");
        rejects(oneTensor("t", new long[]{4}, f32, 1L << 40, 64), "tensor 't' data", "outside");
        rejects(oneTensor("", new long[]{4}, f32, 0, 64), "tensor #0 name", "empty");
        rejects(oneTensor("x".repeat(300), new long[]{4}, f32, 0, 64), "tensor #0 name length", "out of range (allowed 0..255)");
        byte[] duplicate = header(2, 0).tensorInfo("t", new long[]{4}, f32, 0).tensorInfo("t", new long[]{4}, f32, 32)
                .padTo(32).raw(new byte[64]).bytes();
        rejects(duplicate, "tensor 't'", "duplicate tensor name");
        byte[] overlap = header(2, 0).tensorInfo("a", new long[]{16}, f32, 0).tensorInfo("b", new long[]{4}, f32, 32)
                .padTo(32).raw(new byte[64]).bytes();
        rejects(overlap, "tensor 'b' offset", "overlaps tensor 'a'");
    }

    @Test
    void heapLimitsBoundWhatAFileMayAskFor() throws IOException {
        GgufLimits tight = new GgufLimits(2, 1, 10, 20, 5);
        Entry small = new Entry("a", GgufValueType.INT8, 1L);
        assertContains(parseWith(tight, header(0, 3).entry(small).entry(small).entry(small).bytes()),
                "metadata_kv_count: 3 is out of range (allowed 0..2)");
        assertContains(parseWith(tight, header(2, 0).tensorInfo("a", new long[]{4}, 0, 0).tensorInfo("b", new long[]{4}, 0, 32).bytes()),
                "tensor_count: 2 is out of range (allowed 0..1)");
        assertContains(parseWith(tight, header(0, 1).entry(new Entry("k", GgufValueType.STRING, "eleven char")).bytes()),
                "metadata 'k' length: 11 is out of range (allowed 0..10)");
        assertContains(parseWith(tight, header(0, 2).entry(new Entry("k", GgufValueType.STRING, "ten chars!"))
                .entry(new Entry("j", GgufValueType.STRING, "ten chars!")).bytes()), "exceed 20 bytes in total");
        GgufArray six = new GgufArray(GgufValueType.STRING, List.of("a", "b", "c", "d", "e", "f"));
        assertContains(parseWith(tight, header(0, 1).entry(new Entry("v", GgufValueType.ARRAY, six)).bytes()), "exceed the limit of 5");
        GgufArray manyScalars = new GgufArray(GgufValueType.INT32, List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L));
        assertDoesNotThrow(() -> GgufParser.parse(new GgufCursor(Path.of("limits.gguf"),
                java.lang.foreign.MemorySegment.ofArray(header(0, 1).entry(new Entry("v", GgufValueType.ARRAY, manyScalars)).bytes())), tight),
                "scalar arrays stay in the mapping and are not counted");
    }

    private static void assertContains(String message, String fragment) {
        assertTrue(message.contains(fragment), () -> "'" + message + "' lacks '" + fragment + "'");
    }

    private static String parseWith(GgufLimits limits, byte[] bytes) {
        var cursor = new GgufCursor(Path.of("limits.gguf"), java.lang.foreign.MemorySegment.ofArray(bytes));
        return assertThrows(GgufFormatException.class, () -> GgufParser.parse(cursor, limits)).getMessage();
    }

    @Test
    void keysInMessagesAreEscapedAndShortened() throws IOException {
        String key = "evil\n\u001b[31m" + "k".repeat(200);
        GgufFormatException error = rejects(header(0, 1).string(key).u32(99).bytes(), "unknown value type id 99");
        assertTrue(error.getMessage().contains("metadata 'evil\\u000a\\u001b[31m" + "k".repeat(70) + "...' type"), error.getMessage());
    }

    @Test
    void errorsCarryFileAndField() throws IOException {
        GgufFormatException error = rejects(oneTensor("t", new long[]{}, GgmlType.F32.id(), 0, 64), "n_dims");
        assertEquals("tensor 't' n_dims", error.field());
        assertEquals("bad.gguf", error.file().getFileName().toString());
    }

    @Test
    void typedGettersConvertAndCheckRanges() throws IOException {
        List<Entry> entries = List.of(
                new Entry("big", GgufValueType.UINT32, 4_000_000_000L),
                new Entry("neg", GgufValueType.INT8, -3L),
                new Entry("ints", GgufValueType.ARRAY, new GgufArray(GgufValueType.UINT8, List.of(1L, 255L))),
                new Entry("doubles", GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT64, List.of(0.5, -2.25))),
                new Entry("flag", GgufValueType.BOOL, true));
        try (GgufFile gguf = GgufFile.open(write(GgufTestWriter.file(3, entries, List.of())))) {
            assertEquals(4_000_000_000L, gguf.getLong("big"));
            assertEquals(4.0e9, gguf.getDouble("big"));
            assertTrue(assertThrows(GgufFormatException.class, () -> gguf.getInt("big")).getMessage().contains("out of range"));
            assertEquals(-3, gguf.getInt("neg"));
            assertArrayEquals(new int[]{1, 255}, gguf.getIntArray("ints"));
            assertArrayEquals(new float[]{0.5f, -2.25f}, gguf.getFloatArray("doubles"));
            assertTrue(gguf.getBoolean("flag"));
            assertThrows(GgufFormatException.class, () -> gguf.getFloatArray("ints"));
            assertEquals(Arrays.asList(1L, 255L), gguf.getArray("ints").values());
        }
    }
}
