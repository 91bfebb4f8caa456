package ai.aether.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Thousands of corrupted variants of the real files: byte flips in the header, metadata and
 * tensor table, structural fields (counts, lengths, types, dims, offsets) set to hostile values,
 * and truncations. Each must either parse with every tensor inside the file, or fail with a
 * GgufFormatException carrying a message; any other throwable fails the test with its recipe.
 * Most trials run the parser over an in-memory copy (patched, then restored); a sample of
 * truncated files also goes through {@link GgufFile#open} from disk.
 */
class GgufFuzzTest {

    private static final long SEED = 0x6775_6666L;
    /** Trials per file; SmolLM2's header alone (100K strings) is parsed each time, so it gets fewer. */
    private static final int TRIALS_SMALL_FILE = 700;
    private static final int TRIALS_LARGE_FILE = 150;
    private static final long[] HOSTILE_VALUES = {-1L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 32, (1L << 32) - 1, 1L << 40,
            0, 1, 5, 0x7FFF_FFFFL, 0xFFFF_FFFFL};

    @TempDir
    Path directory;

    private int accepted;
    private int rejected;

    @Test
    void corruptedRealFilesFailCleanly() throws IOException {
        for (Path file : SharedFiles.allGgufFiles()) {
            byte[] original = Files.readAllBytes(file);
            long headerEnd;
            try (GgufFile gguf = GgufFile.open(file)) {
                headerEnd = Math.min(gguf.dataOffset(), original.length);
            }
            List<long[]> fields = GgufFieldMap.structuralFields(original, headerEnd); // [position, width]
            int trials = original.length > 10_000_000 ? TRIALS_LARGE_FILE : TRIALS_SMALL_FILE;
            fuzz(file, original, headerEnd, fields, trials);
        }
        System.out.printf("fuzz: %d corrupted variants accepted (all tensors inside the file), %d rejected%n", accepted, rejected);
        assertTrue(accepted + rejected > 5000, "ran " + (accepted + rejected) + " trials");
        assertTrue(rejected > 1000, "most corruptions must be detected; rejected only " + rejected);
    }

    private void fuzz(Path file, byte[] original, long headerEnd, List<long[]> fields, int trials) {
        SplittableRandom random = new SplittableRandom(SEED ^ file.getFileName().toString().hashCode());
        byte[] bytes = original.clone();
        MemorySegment whole = MemorySegment.ofArray(bytes);
        for (int trial = 0; trial < trials; trial++) {
            int kind = random.nextInt(4);
            String recipe;
            long patchStart;
            int patchLength;
            MemorySegment view = whole;
            if (kind == 0) { // flip 1..4 random bytes in the header region
                patchStart = random.nextLong(headerEnd);
                patchLength = (int) Math.min(1 + random.nextInt(4), original.length - patchStart);
                for (int i = 0; i < patchLength; i++) bytes[(int) patchStart + i] ^= (byte) (1 + random.nextInt(255));
                recipe = "flip " + patchLength + " bytes at " + patchStart;
            } else if (kind == 1 && !fields.isEmpty()) { // a structural field set to a hostile value
                long[] field = fields.get(random.nextInt(fields.size()));
                patchStart = field[0];
                patchLength = (int) field[1];
                long value = random.nextBoolean() ? HOSTILE_VALUES[random.nextInt(HOSTILE_VALUES.length)] : random.nextLong();
                ByteBuffer.wrap(bytes, (int) patchStart, patchLength).order(ByteOrder.LITTLE_ENDIAN)
                        .put(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array(), 0, patchLength);
                recipe = "field at " + patchStart + " (" + patchLength + " bytes) := " + value;
            } else { // truncation, mostly inside the header region
                long length = random.nextInt(5) == 0 ? random.nextLong(original.length + 1L) : random.nextLong(headerEnd + 1);
                view = whole.asSlice(0, length);
                patchStart = 0;
                patchLength = 0;
                recipe = "truncate to " + length;
            }
            check(file, view, recipe);
            System.arraycopy(original, (int) patchStart, bytes, (int) patchStart, patchLength);
        }
        truncatedFilesOnDisk(file, original, headerEnd, random);
    }

    private void check(Path file, MemorySegment bytes, String recipe) {
        try {
            GgufParser.Parsed parsed = GgufParser.parse(new GgufCursor(file, bytes));
            for (GgufTensorInfo info : parsed.tensors()) {
                long end = parsed.dataOffset() + info.offset() + info.byteSize();
                assertTrue(info.offset() >= 0 && info.byteSize() > 0 && end <= bytes.byteSize(),
                        () -> file + " " + recipe + ": tensor " + info + " outside the file");
                bytes.asSlice(parsed.dataOffset() + info.offset(), info.byteSize());
            }
            touchValues(parsed.metadata());
            accepted++;
        } catch (GgufFormatException expected) {
            assertFalse(expected.getMessage() == null || expected.getMessage().isBlank(), recipe);
            rejected++;
        } catch (Throwable other) {
            fail(file + " " + recipe + ": " + other, other);
        }
    }

    /** Reads some elements of every array (first, last, middle) so lazy views are exercised. */
    private static void touchValues(Map<String, Object> metadata) {
        for (Object value : metadata.values()) touch(value);
    }

    private static void touch(Object value) {
        if (value instanceof GgufArray array && array.size() > 0) {
            touch(array.get(0));
            touch(array.get(array.size() / 2));
            touch(array.get(array.size() - 1));
        }
    }

    /** A few real truncated files through GgufFile.open, so mapping and closing are covered too. */
    private void truncatedFilesOnDisk(Path file, byte[] original, long headerEnd, SplittableRandom random) {
        Path truncated = directory.resolve("truncated.gguf");
        for (int i = 0; i < 10; i++) {
            int length = (int) random.nextLong(Math.min(original.length, headerEnd + 64));
            try {
                Files.write(truncated, java.util.Arrays.copyOf(original, length));
                GgufFile.open(truncated).close();
                fail(file + " truncated to " + length + " bytes opened");
            } catch (GgufFormatException expected) {
                assertTrue(expected.getMessage().contains("truncated.gguf"), expected.getMessage());
                rejected++;
            } catch (IOException io) {
                fail(io);
            }
        }
    }

    /** Independent walk of a GGUF layout listing the positions of its structural integer fields. */
    static final class GgufFieldMap {
        private final ByteBuffer buffer;
        private final List<long[]> fields = new ArrayList<>(); // [position, width]

        private GgufFieldMap(byte[] bytes) {
            buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        static List<long[]> structuralFields(byte[] bytes, long headerEnd) {
            GgufFieldMap map = new GgufFieldMap(bytes);
            map.walk();
            return map.fields.stream().filter(field -> field[0] < headerEnd).toList();
        }

        private long field(int width) {
            fields.add(new long[]{buffer.position(), width});
            return width == 4 ? Integer.toUnsignedLong(buffer.getInt()) : buffer.getLong();
        }

        private void walk() {
            buffer.position(8);
            long tensors = field(8);
            long kvs = field(8);
            for (long i = 0; i < kvs; i++) {
                skipString();
                value((int) field(4));
            }
            for (long i = 0; i < tensors; i++) {
                skipString();
                long dims = field(4);
                for (long d = 0; d < dims; d++) field(8);
                field(4);
                field(8);
            }
        }

        private void skipString() {
            long length = field(8);
            buffer.position((int) (buffer.position() + length));
        }

        private void value(int type) {
            switch (type) {
                case 0, 1, 7 -> buffer.position(buffer.position() + 1);
                case 2, 3 -> buffer.position(buffer.position() + 2);
                case 4, 5, 6 -> buffer.position(buffer.position() + 4);
                case 10, 11, 12 -> buffer.position(buffer.position() + 8);
                case 8 -> skipString();
                case 9 -> {
                    int elementType = (int) field(4);
                    long count = field(8);
                    for (long i = 0; i < count; i++) value(elementType);
                }
                default -> throw new IllegalStateException("unknown value type " + type + " in a shipped file");
            }
        }
    }
}
