package ai.aether;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** Enforces the layering in ARCHITECTURE.md: one-way arrows, no package cycles. */
class ArchitectureTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("ai.aether");

    @Test
    void noCyclesBetweenTopLevelPackages() {
        slices().matching("ai.aether.(*)..").should().beFreeOfCycles().allowEmptyShould(true).check(CLASSES);
    }

    @Test
    void lowerLayersDoNotSeeUpperLayers() {
        String[] upper = {"ai.aether.cli..", "ai.aether.bench..", "ai.aether.eval..", "ai.aether.engine..", "ai.aether.server..", "ai.aether.catalog.."};
        noClasses().that().resideInAnyPackage("ai.aether.kernels..", "ai.aether.attention..", "ai.aether.model..",
                        "ai.aether.gguf..", "ai.aether.tokenizer..")
                .should().dependOnClassesThat().resideInAnyPackage(upper).allowEmptyShould(true).check(CLASSES);
        noClasses().that().resideInAnyPackage("ai.aether.kernels..", "ai.aether.attention..")
                .should().dependOnClassesThat().resideInAnyPackage("ai.aether.model..", "ai.aether.gguf..", "ai.aether.tokenizer..")
                .allowEmptyShould(true).check(CLASSES);
        noClasses().that().resideInAnyPackage("ai.aether.engine..")
                .should().dependOnClassesThat().resideInAnyPackage("ai.aether.cli..", "ai.aether.bench..", "ai.aether.eval..")
                .allowEmptyShould(true).check(CLASSES);
        noClasses().that().resideInAnyPackage("ai.aether.eval..", "ai.aether.bench..")
                .should().dependOnClassesThat().resideInAnyPackage("ai.aether.cli..")
                .allowEmptyShould(true).check(CLASSES);
        noClasses().that().resideInAnyPackage("ai.aether.gguf..")
                .should().dependOnClassesThat().resideInAnyPackage("ai.aether.tokenizer..", "ai.aether.model..", "ai.aether.attention..", "ai.aether.kernels..")
                .allowEmptyShould(true).check(CLASSES);
    }
}
