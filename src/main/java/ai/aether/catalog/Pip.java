package ai.aether.catalog;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Finds a working pip on a given PATH: {@code python3 -m pip}, {@code python -m pip}, {@code pip3}, {@code pip}. */
final class Pip {

    /** The launchers tried, in order, as they appear in messages. */
    static final String TRIED = "python3 -m pip, python -m pip, pip3, pip";

    private static final List<List<String>> CANDIDATES = List.of(
            List.of("python3", "-m", "pip"), List.of("python", "-m", "pip"), List.of("pip3"), List.of("pip"));

    private Pip() {
    }

    /**
     * The command prefix that runs pip (absolute executable first), found on {@code environment}'s
     * PATH and checked with {@code --version}; empty when none works.
     */
    static Optional<List<String>> find(Map<String, String> environment) {
        String path = environment.getOrDefault("PATH", "");
        for (List<String> candidate : CANDIDATES) {
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) continue;
                Path executable;
                try {
                    executable = Path.of(dir, candidate.getFirst());
                } catch (InvalidPathException e) {
                    continue;
                }
                if (!Files.isRegularFile(executable) || !Files.isExecutable(executable)) continue;
                List<String> command = new ArrayList<>(candidate);
                command.set(0, executable.toString());
                if (works(command, environment)) return Optional.of(List.copyOf(command));
                break; // the first one on PATH is what a shell would run; try the next launcher instead
            }
        }
        return Optional.empty();
    }

    private static boolean works(List<String> command, Map<String, String> environment) {
        List<String> versionCheck = new ArrayList<>(command);
        versionCheck.add("--version");
        ProcessBuilder builder = new ProcessBuilder(versionCheck).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().clear();
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
