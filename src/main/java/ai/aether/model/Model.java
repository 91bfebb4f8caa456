package ai.aether.model;

import ai.aether.gguf.GgufFile;
import ai.aether.kernels.attention.KvDtype;
import ai.aether.kernels.ops.Rope;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A loaded Llama-family model (llama, qwen2) over a memory-mapped GGUF file. Stateless apart
 * from the weights: a sequence's state lives in its {@link KvCache} and its position, so one
 * model can serve several sequences (each call allocates its own activations).
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("stories260K.gguf"))) {
 *     KvCache cache = model.newKvCache(512);
 *     float[] logits = model.prefill(promptIds, 0, cache);           // [vocab] after the prompt
 *     int next = argmax(logits);
 *     logits = model.decode(next, promptIds.length, cache);          // [vocab] after one more token
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
    /** Prompt tokens per forward chunk: large enough to amortise weight decoding, small enough for L2-sized tiles. */
    public static final int PREFILL_CHUNK = 256;

    private final GgufFile file;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Transformer transformer;
    private volatile LayerSensitivityProfile layerProfile;  // null: CALIBRATED budgets probe each prompt

    private Model(GgufFile file, ModelConfig config, ModelWeights weights) {
        this.file = file;
        this.config = config;
        this.weights = weights;
        Rope rope = new Rope(config.architecture().ropeStyle(), config.headDim(), config.ropeTheta(), config.contextLength());
        this.transformer = new Transformer(config, weights, rope);
    }

    /**
     * Opens, validates and binds a GGUF model file, with its layer-sensitivity profile when one is
     * found ({@link LayerSensitivityProfile#find}: the user's profiles directory, then the jar).
     */
    public static Model load(Path path) throws IOException {
        return load(path, LayerSensitivityProfile.userDirectory(System.getenv()));
    }

    /** As {@link #load(Path)}, looking for a user profile in {@code profilesDirectory}. */
    public static Model load(Path path, Path profilesDirectory) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            Model model = fromGguf(file);
            model.layerProfile = LayerSensitivityProfile.find(LayerSensitivityProfile.fingerprint(path), model.config.layers(),
                    profilesDirectory).orElse(null);
            return model;
        } catch (IOException | RuntimeException failure) {
            file.close();
            throw failure;
        }
    }

    /** Binds an open GGUF file; the model takes ownership and closes it. */
    public static Model fromGguf(GgufFile file) throws IOException {
        ModelConfig config;
        try {
            config = ModelConfig.fromGguf(file);
        } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException(file.path() + ": " + bad.getMessage(), bad);
        }
        Model model = new Model(file, config, ModelWeights.fromGguf(file, config));
        file.releaseResidentPages();  // the quantised matrices now live repacked on the heap
        return model;
    }

    public ModelConfig config() { return config; }

    public ModelWeights weights() { return weights; }

    /** The layer-sensitivity profile CALIBRATED budgets use, if this model has one. */
    public java.util.Optional<LayerSensitivityProfile> layerProfile() { return java.util.Optional.ofNullable(layerProfile); }

    /** Uses {@code profile} from now on (null: none; CALIBRATED budgets then probe each prompt). */
    public void setLayerProfile(LayerSensitivityProfile profile) {
        if (profile != null && profile.layers() != config.layers()) {
            throw new IllegalArgumentException("the profile covers " + profile.layers() + " layers, " + config.name() + " has " + config.layers());
        }
        layerProfile = profile;
    }

    /** The underlying file (for the tokenizer and chat template in its metadata). */
    public GgufFile gguf() { return file; }

    /** A dense fp32 block cache for this model holding {@code capacity} positions (at most the context length). */
    public KvCache newKvCache(int capacity) {
        return newKvCache(capacity, KvDtype.FP32);
    }

    /** A dense block cache for this model storing keys and values as {@code dtype}. */
    public KvCache newKvCache(int capacity, KvDtype dtype) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("KV capacity must be in [1, " + config.contextLength() + "] for " + config.name()
                    + ", got " + capacity);
        }
        return BlockedKvCache.forModel(config, capacity, dtype);
    }

    /**
     * Runs a prompt (or any run of new tokens) at positions [position, position + tokens.length),
     * in chunks of {@link #PREFILL_CHUNK}, and returns the logits after its last token. An AETHER
     * cache then gets the model's {@link LayerSensitivityProfile}, or, without one and with
     * CALIBRATED layer budgets, a {@link LayerSensitivityProbe} of the prompt.
     *
     * @return [vocab] logits of the last token
     */
    public float[] prefill(int[] tokens, int position, KvCache cache) {
        return prefill(tokens, position, cache, null);
    }

    /** {@link #prefill(int[], int, KvCache)} reporting every named intermediate to {@code observer} (may be null). */
    public float[] prefill(int[] tokens, int position, KvCache cache, ActivationObserver observer) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("prefill needs at least one token");
        checkFits(position, tokens.length, cache);
        float[] logits = null;
        for (int start = 0; start < tokens.length; start += PREFILL_CHUNK) {
            int count = Math.min(PREFILL_CHUNK, tokens.length - start);
            boolean last = start + count == tokens.length;
            logits = transformer.forward(tokens, start, count, position + start, cache, last, observer);
        }
        if (cache instanceof AetherKvCache aether) {
            LayerSensitivityProfile profile = layerProfile;
            if (profile != null) {
                aether.setLayerSensitivity(profile.sensitivity());  // CALIBRATED budgets weigh layers by it
            } else if (LayerSensitivityProbe.wanted(aether.config()) && LayerSensitivityProbe.worthIt(aether.config(), position + tokens.length)) {
                logits = logits.clone();  // the probe's decodes reuse the forward pass's logits buffer
                LayerSensitivityProbe.run(this, aether, tokens, aether.config());
            }
        }
        return logits;
    }

    /** One token at {@code position}; returns [vocab] logits for the next position. */
    public float[] decode(int token, int position, KvCache cache) {
        checkFits(position, 1, cache);
        return transformer.forward(new int[] {token}, 0, 1, position, cache, true, null);
    }

    private void checkFits(int position, int tokens, KvCache cache) {
        if (cache.layers() != config.layers() || cache.kvHeads() != config.kvHeads() || cache.headDim() != config.headDim()) {
            throw new IllegalArgumentException("KV cache shape (layers " + cache.layers() + ", kv heads " + cache.kvHeads()
                    + ", head dim " + cache.headDim() + ") does not match " + config.name());
        }
        long end = (long) position + tokens;
        if (position < 0 || end > cache.capacity() || end > config.contextLength()) {
            throw new IllegalArgumentException("positions [" + position + ", " + end + ") exceed the KV capacity " + cache.capacity()
                    + " or the context length " + config.contextLength() + " of " + config.name());
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
