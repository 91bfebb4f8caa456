package ai.aether.catalog;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link ModelPuller} runs pip.
 *
 * @param indexUrl    a PEP 503 simple index to use instead of pip's configured one, or null
 * @param findLinks   a local directory holding the wheel; pip then runs with {@code --no-index}; or null
 * @param environment the environment pip runs in (PATH decides which pip is found)
 */
public record PullOptions(String indexUrl, Path findLinks, Map<String, String> environment) {
    public PullOptions {
        Objects.requireNonNull(environment, "environment");
        environment = Map.copyOf(environment);
        if (indexUrl != null && findLinks != null)
            throw new IllegalArgumentException("give either --index-url or --find-links, not both");
    }

    /** pip's own configuration in this process's environment. */
    public static PullOptions defaults() {
        return new PullOptions(null, null, System.getenv());
    }

    public PullOptions withIndexUrl(String url) {
        return new PullOptions(url, findLinks, environment);
    }

    public PullOptions withFindLinks(Path dir) {
        return new PullOptions(indexUrl, dir, environment);
    }

    public PullOptions withEnvironment(Map<String, String> env) {
        return new PullOptions(indexUrl, findLinks, env);
    }
}
