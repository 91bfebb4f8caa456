package ai.aether.npz;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The .npy/.npz reader and writer against files written by numpy (scripts/oracle/make_npz_fixtures.py). */
class NpzTest {

    @TempDir
    Path tmp;

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(NpzTest.class.getResource("/fixtures/npz/" + name).toURI());
    }

    @Test
    void readsArraysWrittenByNumpySavezAndSavezCompressed() throws Exception {
        for (String file : List.of("numpy_savez.npz", "numpy_savez_compressed.npz")) {
            Map<String, NpyArray> arrays = NpzFile.readAll(fixture(file));
            assertEquals(List.of("f4", "f2", "i4", "i8", "scalar"), List.copyOf(arrays.keySet()), file);

            NpyArray f4 = arrays.get("f4");
            assertEquals(NpyDtype.FLOAT32, f4.dtype());
            assertArrayEquals(new int[]{2, 3}, f4.shape());
            assertArrayEquals(new float[]{-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}, f4.toFloatArray());

            NpyArray f2 = arrays.get("f2");
            assertEquals(NpyDtype.FLOAT16, f2.dtype());
            float[] half = f2.toFloatArray();
            assertEquals(0f, half[0]);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(half[1]), "negative zero keeps its sign");
            assertEquals(1.5f, half[2]);
            assertEquals(65504f, half[3]);
            assertEquals((float) Math.pow(2, -24), half[4], "smallest float16 subnormal");
            assertEquals(Float.POSITIVE_INFINITY, half[5]);

            NpyArray i4 = arrays.get("i4");
            assertArrayEquals(new int[]{2, 2, 2}, i4.shape());
            assertArrayEquals(new int[]{-3, -2, -1, 0, 1, 2, 3, 4}, i4.toIntArray());

            NpyArray i8 = arrays.get("i8");
            assertEquals(NpyDtype.INT64, i8.dtype());
            assertArrayEquals(new long[]{-(1L << 40), 7, (1L << 40) + 1}, i8.toLongArray());

            NpyArray scalar = arrays.get("scalar");
            assertEquals(0, scalar.rank());
            assertArrayEquals(new float[]{3.25f}, scalar.toFloatArray());
        }
    }

    @Test
    void writerProducesTheSameBytesAsNumpySave() throws Exception {
        ByteArrayOutputStream f4 = new ByteArrayOutputStream();
        Npy.write(NpyArray.ofFloats(new float[]{-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}, 2, 3), f4);
        assertArrayEquals(Files.readAllBytes(fixture("f4.npy")), f4.toByteArray());

        ByteArrayOutputStream i8 = new ByteArrayOutputStream();
        Npy.write(NpyArray.ofLongs(new long[]{-(1L << 40), 7, (1L << 40) + 1}, 3), i8);
        assertArrayEquals(Files.readAllBytes(fixture("i8.npy")), i8.toByteArray());
    }

    @Test
    void roundTripsEveryDtypeThroughAnNpzFile() throws IOException {
        Path file = tmp.resolve("round.npz");
        float[] f = {1.25f, -2f, 3.5f, 0f, 1e-3f, 7f};
        try (NpzWriter npz = new NpzWriter(file)) {
            npz.add("f4", NpyArray.ofFloats(f, 3, 2));
            npz.add("f2", NpyArray.ofFloat16(f, 6));
            npz.add("i4", NpyArray.ofInts(new int[]{Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, 1, 3));
            npz.add("i8", NpyArray.ofLongs(new long[]{Long.MIN_VALUE, Long.MAX_VALUE}, 2));
        }
        try (NpzFile npz = NpzFile.open(file)) {
            assertEquals(List.of("f4", "f2", "i4", "i8"), npz.names());
            assertArrayEquals(f, npz.get("f4").toFloatArray());
            assertArrayEquals(new int[]{3, 2}, npz.get("f4").shape());
            float[] half = npz.get("f2").toFloatArray();
            for (int i = 0; i < f.length; i++) {
                // float16 keeps 11 significant bits: relative error <= 2^-11
                assertEquals(f[i], half[i], Math.abs(f[i]) * 0x1p-11, "f2[" + i + "]");
            }
            assertArrayEquals(new int[]{Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, npz.get("i4").toIntArray());
            assertArrayEquals(new long[]{Long.MIN_VALUE, Long.MAX_VALUE}, npz.get("i8").toLongArray());
        }
    }

    @Property(tries = 30)
    void float32ArraysOfAnyShapeRoundTrip(@ForAll @Size(min = 0, max = 4) List<@IntRange(min = 0, max = 5) Integer> dims,
                                          @ForAll long seed) throws IOException {
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        float[] values = new float[(int) NpyArray.elementCount(shape)];
        java.util.Random random = new java.util.Random(seed);
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(NpyArray.ofFloats(values, shape), out);
        assertEquals(0, (out.size() - values.length * 4) % 64, "header padded to a multiple of 64 bytes");
        NpyArray back = Npy.read(new java.io.ByteArrayInputStream(out.toByteArray()), "memory");
        assertArrayEquals(shape, back.shape());
        assertArrayEquals(values, back.toFloatArray());
    }

    @Test
    void refusesBigEndianAndFortranOrderNamingTheEntry() throws Exception {
        try (NpzFile npz = NpzFile.open(fixture("unsupported.npz"))) {
            NpyFormatException big = assertThrows(NpyFormatException.class, () -> npz.get("big"));
            assertTrue(big.getMessage().contains("big.npy") && big.getMessage().contains(">f4"), big.getMessage());
            NpyFormatException fortran = assertThrows(NpyFormatException.class, () -> npz.get("fortran"));
            assertTrue(fortran.getMessage().contains("Fortran"), fortran.getMessage());
        }
    }

    @Test
    void missingArrayListsTheArraysPresent() throws Exception {
        try (NpzFile npz = NpzFile.open(fixture("numpy_savez.npz"))) {
            NpyFormatException e = assertThrows(NpyFormatException.class, () -> npz.get("keys"));
            assertTrue(e.getMessage().contains("no array 'keys'") && e.getMessage().contains("f4, f2"), e.getMessage());
        }
    }

    @Test
    void truncatedArrayAndNonZipAreClearErrors() throws Exception {
        byte[] full = Files.readAllBytes(fixture("f4.npy"));
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 5);
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.read(new java.io.ByteArrayInputStream(cut), "cut.npy"));
        assertTrue(e.getMessage().contains("cut.npy") && e.getMessage().contains("truncated"), e.getMessage());

        Path notZip = tmp.resolve("plain.npz");
        Files.writeString(notZip, "hello");
        NpyFormatException z = assertThrows(NpyFormatException.class, () -> NpzFile.open(notZip));
        assertTrue(z.getMessage().contains("plain.npz"), z.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> NpzFile.open(tmp.resolve("absent.npz")));
    }
}
