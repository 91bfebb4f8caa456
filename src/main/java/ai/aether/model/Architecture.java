package ai.aether.model;

import ai.aether.kernels.ops.Rope;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The model architectures Aether runs (GGUF {@code general.architecture}), and how they differ. */
public enum Architecture {
    /** Llama 2/3, TinyLlama, SmolLM2: GGUF permutes Q/K rows for the interleaved RoPE pairing. */
    LLAMA("llama", Rope.Style.INTERLEAVED, false),
    /** Qwen2: NEOX (half-split) RoPE pairing and biases on Q, K and V. */
    QWEN2("qwen2", Rope.Style.NEOX, true);

    private final String ggufName;
    private final Rope.Style ropeStyle;
    private final boolean qkvBias;

    Architecture(String ggufName, Rope.Style ropeStyle, boolean qkvBias) {
        this.ggufName = ggufName;
        this.ropeStyle = ropeStyle;
        this.qkvBias = qkvBias;
    }

    /** The name in {@code general.architecture} and the prefix of its metadata keys. */
    public String ggufName() { return ggufName; }

    public Rope.Style ropeStyle() { return ropeStyle; }

    /** Whether attention Q/K/V projections carry biases. */
    public boolean qkvBias() { return qkvBias; }

    /** The architecture named {@code name}; any other is refused by name. */
    public static Architecture fromGgufName(String name) {
        for (Architecture a : values()) if (a.ggufName.equals(name)) return a;
        throw new IllegalArgumentException("unsupported model architecture '" + name + "' (supported: "
                + Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", ")) + ")");
    }
}
