package ai.aether.cli;

import ai.aether.catalog.ResolvedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code --model}/{@code --models-dir} mixin as another command would use it. */
class ModelOptionTest {

    @Command(name = "probe")
    static final class Probe implements Callable<Integer> {
        @Mixin
        ModelOption model;
        boolean useDefault;
        ResolvedModel resolved;

        @Override
        public Integer call() throws IOException {
            resolved = useDefault ? model.resolveOr("tiny") : model.resolve();
            return 0;
        }
    }

    private static int run(Probe probe, StringWriter err, String... args) {
        CommandLine cli = new CommandLine(probe);
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler(new CliErrors());
        return cli.execute(args);
    }

    @Test
    void resolvesAFileOrANameInTheModelsDir(@TempDir Path tmp) throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Path tiny = Files.write(models.resolve("tiny.gguf"), new byte[]{1});
        Probe byPath = new Probe();
        assertEquals(0, run(byPath, new StringWriter(), "--model", tiny.toString()));
        assertEquals(tiny, byPath.resolved.path());
        Probe byName = new Probe();
        assertEquals(0, run(byName, new StringWriter(), "-m", "tiny", "--models-dir", models.toString()));
        assertEquals(ResolvedModel.Origin.MODELS_DIR, byName.resolved.origin());
        Probe byDefault = new Probe();
        byDefault.useDefault = true;
        assertEquals(0, run(byDefault, new StringWriter(), "--models-dir", models.toString()));
        assertEquals(tiny, byDefault.resolved.path());
    }

    @Test
    void missingModelIsAClearError(@TempDir Path tmp) {
        StringWriter err = new StringWriter();
        assertEquals(1, run(new Probe(), err));
        assertTrue(err.toString().startsWith("aether probe: --model is required"), err.toString());
        StringWriter notFound = new StringWriter();
        assertEquals(1, run(new Probe(), notFound, "--model", "nosuch", "--models-dir", tmp.toString()));
        assertTrue(notFound.toString().startsWith("aether probe: model 'nosuch' not found. Tried, in order:"),
                notFound.toString());
    }
}
