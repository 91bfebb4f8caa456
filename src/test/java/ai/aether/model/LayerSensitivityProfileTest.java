package ai.aether.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The profile file: round trip, validation with messages that name the file and field, lookup order, fingerprint. */
class LayerSensitivityProfileTest {
    static final String FP = "0123456789abcdef";

    static LayerSensitivityProfile profile(double... s) {
        return new LayerSensitivityProfile(FP, "tiny", s, 0.8, 3, 16, "test text");
    }

    @Test
    void roundTripsThroughJson() throws IOException {
        LayerSensitivityProfile p = profile(0.01, 0.5, 2.25e-3);
        LayerSensitivityProfile back = LayerSensitivityProfile.read(p.toJson(), "p.json", FP, 3);
        assertArrayEquals(p.sensitivity(), back.sensitivity(), 0.0);
        assertEquals("tiny", back.modelName());
        assertEquals(0.8, back.targetSparsity());
        assertEquals(3, back.windows());
        assertEquals(16, back.tokensPerWindow());
        assertEquals("test text", back.source());
    }

    @Test
    void rejectsFilesThatAreNotThisModelsProfileNamingFileAndField() {
        String good = profile(0.01, 0.5, 0.2).toJson();
        assertMessage(() -> LayerSensitivityProfile.read("{not json", "a.json", FP, 3), "a.json", "not valid JSON");
        assertMessage(() -> LayerSensitivityProfile.read(good.replace(LayerSensitivityProfile.FORMAT, "other/9"), "b.json", FP, 3), "b.json", "'format'");
        assertMessage(() -> LayerSensitivityProfile.read(good, "c.json", "fedcba9876543210", 3), "c.json", "'fingerprint'");
        assertMessage(() -> LayerSensitivityProfile.read(good, "d.json", FP, 30), "d.json", "30 layers");
        assertMessage(() -> LayerSensitivityProfile.read(good.replace("0.5", "-0.5"), "e.json", FP, 3), "e.json", "sensitivity[1]");
        assertMessage(() -> LayerSensitivityProfile.read(good.replace("0.5", "\"x\""), "f.json", FP, 3), "f.json", "sensitivity[1]");
        assertMessage(() -> LayerSensitivityProfile.read(good.replace("\"windows\" : 3", "\"windows\" : 0"), "g.json", FP, 3), "g.json", "windows");
        assertMessage(() -> LayerSensitivityProfile.read("[]", "h.json", FP, 3), "h.json", "JSON object");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IOException e = assertThrows(IOException.class, call);
        for (String part : parts) assertTrue(e.getMessage().contains(part), "message names '" + part + "': " + e.getMessage());
    }

    @Test
    void theUsersProfileComesFirstAndNoneIsEmpty(@TempDir Path dir) throws IOException {
        assertEquals(Optional.empty(), LayerSensitivityProfile.find(FP, 3, dir));
        Files.writeString(LayerSensitivityProfile.userFile(dir, FP), profile(1, 2, 3).toJson());
        assertArrayEquals(new double[] {1, 2, 3}, LayerSensitivityProfile.find(FP, 3, dir).orElseThrow().sensitivity(), 0.0);
        Files.writeString(LayerSensitivityProfile.userFile(dir, FP), "{}");
        assertMessage(() -> LayerSensitivityProfile.find(FP, 3, dir), dir.resolve(FP + ".json").toString(), "'format'");
    }

    @Test
    void theShippedSmolLm2ProfileIsValid(@TempDir Path empty) throws IOException {
        LayerSensitivityProfile shipped = LayerSensitivityProfile.find(SMOLLM2_FINGERPRINT, 30, empty).orElseThrow();
        assertEquals(30, shipped.layers());
        for (double s : shipped.sensitivity()) assertTrue(s > 0 && Double.isFinite(s), "sensitivity " + s);
    }

    /** Fingerprint of ../shared/models' SmolLM2-135M-Instruct Q4_1 (checked against the file by {@link #fingerprintOfTheSharedSmolLm2}). */
    static final String SMOLLM2_FINGERPRINT = "747cb1f0195582d0";

    @Test
    void fingerprintOfTheSharedSmolLm2() throws IOException {
        Path file = SharedModels.require(SharedModels.SMOLLM2_Q4_1);
        assertEquals(SMOLLM2_FINGERPRINT, LayerSensitivityProfile.fingerprint(file));
    }

    @Test
    void fingerprintsTellFilesApart(@TempDir Path dir) throws IOException {
        byte[] big = new byte[3 << 20];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        Path a = Files.write(dir.resolve("a"), big), b = Files.write(dir.resolve("b"), big);
        assertEquals(LayerSensitivityProfile.fingerprint(a), LayerSensitivityProfile.fingerprint(b));
        big[100]++;
        Files.write(b, big);
        assertNotEquals(LayerSensitivityProfile.fingerprint(a), LayerSensitivityProfile.fingerprint(b), "a byte in the header");
        big[100]--;
        big[big.length - 5]++;
        Files.write(b, big);
        assertNotEquals(LayerSensitivityProfile.fingerprint(a), LayerSensitivityProfile.fingerprint(b), "a byte at the end");
        Path small = Files.write(dir.resolve("s"), new byte[] {1, 2, 3});
        assertEquals(16, LayerSensitivityProfile.fingerprint(small).length());
        assertNotEquals(LayerSensitivityProfile.fingerprint(small), LayerSensitivityProfile.fingerprint(Files.write(dir.resolve("t"), new byte[] {1, 2, 3, 0})));
    }
}
