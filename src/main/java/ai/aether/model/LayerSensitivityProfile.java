package ai.aether.model;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.SelectionMode;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's per-layer sensitivity of its output to attention error, measured once on calibration
 * text ({@code aether calibrate}) for {@link ai.aether.attention.LayerBudgets#CALIBRATED} budgets.
 *
 * <p>Why a profile rather than the per-prompt {@link LayerSensitivityProbe} alone: which layers
 * matter is mostly a property of the model (on SmolLM2: 16, 17, 19, 20, then 13, 18, 27), while a probe of a
 * prompt's last few tokens is noisy (10-100x between prompts for the same layer) and, on a chat
 * prompt, reads the template's near-certain tail. Averaged over several windows of running text
 * the sensitivities need no shrinking, cost nothing per prompt, and did better on held-out text
 * (docs/quality.md). The per-prompt error curves still decide how much each layer's selection errs.
 *
 * <p>Stored as JSON, found by the model file's {@link #fingerprint}: first in the user's profiles
 * directory ({@code $AETHER_PROFILES_DIR}, else {@code ~/.cache/aether/profiles}), then among the
 * profiles shipped in the jar ({@code /ai/aether/profiles/}).
 *
 * @param fingerprint    the model file's {@link #fingerprint}
 * @param modelName      the model's name, for people reading the file
 * @param sensitivity    {@code [layers]} KL divergence per squared relative attention error, geometric mean over the windows
 * @param targetSparsity the uniform sparsity the probes ran at
 * @param windows        calibration windows measured
 * @param tokensPerWindow prompt tokens re-decoded per window
 * @param source         what text it was measured on
 */
public record LayerSensitivityProfile(String fingerprint, String modelName, double[] sensitivity, double targetSparsity,
                                      int windows, int tokensPerWindow, String source) {

    /** Format tag written to and required in every profile file. */
    public static final String FORMAT = "aether-layer-sensitivity/1";
    /** Environment variable that overrides the user's profiles directory. */
    public static final String PROFILES_DIR_ENV = "AETHER_PROFILES_DIR";
    private static final String BUNDLED = "/ai/aether/profiles/";
    private static final int FINGERPRINT_SPAN = 1 << 20;
    /** Floor for a window's sensitivity in the geometric mean (a layer the probe saw no effect of). */
    private static final double MIN_SENSITIVITY = 1e-12;

    public LayerSensitivityProfile {
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(modelName, "modelName");
        Objects.requireNonNull(source, "source");
        if (sensitivity == null || sensitivity.length == 0) throw new IllegalArgumentException("sensitivity: at least one layer needed");
        for (int l = 0; l < sensitivity.length; l++) {
            if (!Double.isFinite(sensitivity[l]) || sensitivity[l] < 0) {
                throw new IllegalArgumentException("sensitivity[" + l + "] must be finite and >= 0, got " + sensitivity[l]);
            }
        }
        sensitivity = sensitivity.clone();
        if (!(targetSparsity > 0 && targetSparsity < 1)) throw new IllegalArgumentException("targetSparsity must be in (0, 1), got " + targetSparsity);
        if (windows < 1) throw new IllegalArgumentException("windows must be >= 1, got " + windows);
        if (tokensPerWindow < 1) throw new IllegalArgumentException("tokensPerWindow must be >= 1, got " + tokensPerWindow);
    }

    @Override
    public double[] sensitivity() { return sensitivity.clone(); }

    public int layers() { return sensitivity.length; }

    /**
     * A cheap identity of a model file: sha256 over its size and its first and last MiB (enough to
     * tell GGUF files apart, whose headers name the model and whose tensors differ; hashing a
     * multi-GiB file at every load would not be cheap), first 16 hex digits.
     */
    public static String fingerprint(Path modelFile) throws IOException {
        try (FileChannel channel = FileChannel.open(modelFile, StandardOpenOption.READ)) {
            long size = channel.size();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Long.toString(size).getBytes(StandardCharsets.US_ASCII));
            digest(channel, sha, 0, Math.min(size, FINGERPRINT_SPAN));
            long tail = Math.max(0, size - FINGERPRINT_SPAN);
            digest(channel, sha, tail, size - tail);
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private static void digest(FileChannel channel, MessageDigest sha, long position, long length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) break;
        }
        buffer.flip();
        sha.update(buffer);
    }

    /**
     * Measures a profile: each window is prefilled (dense) into its own AETHER cache and probed
     * ({@link LayerSensitivityProbe#measure}, {@code tokensPerWindow} tokens, uniform budgets at
     * {@code config}'s target sparsity); the profile is the geometric mean per layer.
     *
     * @param windows  token windows of running text, each at least {@link LayerSensitivityProbe#MIN_BLOCKS} blocks
     * @param progress told the number of windows done after each
     */
    public static LayerSensitivityProfile measure(Model model, String fingerprint, java.util.List<int[]> windows, AetherConfig config,
                                                  int tokensPerWindow, String source, java.util.function.IntConsumer progress) {
        if (windows.isEmpty()) throw new IllegalArgumentException("calibration needs at least one window of text");
        AetherConfig calibrated = config.toBuilder().selection(SelectionMode.TARGET_SPARSITY).layerBudgets(LayerBudgets.CALIBRATED).build();
        int layers = model.config().layers();
        double[] logSum = new double[layers];
        int done = 0;
        for (int[] window : windows) {
            if (!LayerSensitivityProbe.worthIt(calibrated, window.length)) {
                throw new IllegalArgumentException("calibration window " + done + " has " + window.length + " tokens; at least "
                        + Math.max(calibrated.minSeqLength(), (long) LayerSensitivityProbe.MIN_BLOCKS * calibrated.blockSize())
                        + " needed (" + LayerSensitivityProbe.MIN_BLOCKS + " blocks of " + calibrated.blockSize()
                        + "; a smaller block size fits shorter windows)");
            }
            // prefilled under uniform budgets, so that the prefill does not probe (the probe below measures raw, whatever profile the cache got)
            AetherKvCache cache = new AetherKvCache(model.config(), window.length, calibrated.toBuilder().layerBudgets(LayerBudgets.UNIFORM).build());
            try {
                model.prefill(window, 0, cache);
                double[] measured = LayerSensitivityProbe.measure(model, cache, window, calibrated, tokensPerWindow);
                if (measured == null) throw new IllegalStateException("the prefill of calibration window " + done + " left no calibration rows");
                for (int l = 0; l < layers; l++) logSum[l] += Math.log(Math.max(measured[l], MIN_SENSITIVITY));
            } finally {
                cache.release();
            }
            progress.accept(++done);
        }
        double[] sensitivity = new double[layers];
        for (int l = 0; l < layers; l++) sensitivity[l] = Math.exp(logSum[l] / windows.size());
        return new LayerSensitivityProfile(fingerprint, model.config().name(), sensitivity, calibrated.targetSparsity(), windows.size(),
                tokensPerWindow, source);
    }

    /** The user's profiles directory: {@code $AETHER_PROFILES_DIR}, else {@code ~/.cache/aether/profiles}. */
    public static Path userDirectory(Map<String, String> environment) {
        String fromEnv = environment.get(PROFILES_DIR_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) return Path.of(fromEnv);
        return Path.of(System.getProperty("user.home"), ".cache", "aether", "profiles");
    }

    /** Where {@code aether calibrate} writes the profile of a model with this fingerprint. */
    public static Path userFile(Path directory, String fingerprint) {
        return directory.resolve(fingerprint + ".json");
    }

    /**
     * The profile for the model with {@code fingerprint} and {@code layers} layers: the user's,
     * else a shipped one, else empty.
     *
     * @throws IOException when a profile file exists but cannot be read or is not a valid profile for that model (the message names the file and field)
     */
    public static Optional<LayerSensitivityProfile> find(String fingerprint, int layers, Path userDirectory) throws IOException {
        Path user = userFile(userDirectory, fingerprint);
        if (Files.isRegularFile(user)) return Optional.of(read(Files.readString(user), user.toString(), fingerprint, layers));
        try (InputStream bundled = LayerSensitivityProfile.class.getResourceAsStream(BUNDLED + fingerprint + ".json")) {
            if (bundled == null) return Optional.empty();
            String where = "bundled profile " + BUNDLED + fingerprint + ".json";
            return Optional.of(read(new String(bundled.readAllBytes(), StandardCharsets.UTF_8), where, fingerprint, layers));
        }
    }

    /**
     * Parses a profile and checks it belongs to the model ({@code fingerprint}, {@code layers}).
     *
     * @param where names the file in error messages
     */
    public static LayerSensitivityProfile read(String json, String where, String fingerprint, int layers) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException(where + ": not valid JSON (" + e.getOriginalMessage() + "); delete it or run 'aether calibrate' again", e);
        }
        if (root == null || !root.isObject()) throw new IOException(where + ": expected a JSON object");
        String format = text(root, "format", where);
        if (!FORMAT.equals(format)) throw new IOException(where + ": field 'format' is '" + format + "', expected '" + FORMAT + "'");
        String fileFingerprint = text(root, "fingerprint", where);
        if (!fileFingerprint.equals(fingerprint)) {
            throw new IOException(where + ": field 'fingerprint' is " + fileFingerprint + " but the model file's is " + fingerprint);
        }
        JsonNode values = root.get("sensitivity");
        if (values == null || !values.isArray()) throw new IOException(where + ": field 'sensitivity' must be an array of numbers");
        if (values.size() != layers) {
            throw new IOException(where + ": field 'sensitivity' has " + values.size() + " values, the model has " + layers + " layers");
        }
        double[] sensitivity = new double[layers];
        for (int l = 0; l < layers; l++) {
            JsonNode v = values.get(l);
            if (!v.isNumber()) throw new IOException(where + ": sensitivity[" + l + "] must be a number, got " + v);
            sensitivity[l] = v.asDouble();
        }
        try {
            return new LayerSensitivityProfile(fileFingerprint, text(root, "model", where), sensitivity,
                    number(root, "targetSparsity", where), (int) number(root, "windows", where),
                    (int) number(root, "tokensPerWindow", where), text(root, "source", where));
        } catch (IllegalArgumentException bad) {
            throw new IOException(where + ": " + bad.getMessage(), bad);
        }
    }

    /** The profile as JSON (what {@link #read} parses). */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("format", FORMAT);
        root.put("fingerprint", fingerprint);
        root.put("model", modelName);
        root.put("targetSparsity", targetSparsity);
        root.put("windows", windows);
        root.put("tokensPerWindow", tokensPerWindow);
        root.put("source", source);
        ArrayNode values = root.putArray("sensitivity");
        for (double v : sensitivity) values.add(v);
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
    }

    private static String text(JsonNode root, String field, String where) throws IOException {
        JsonNode v = root.get(field);
        if (v == null || !v.isTextual()) throw new IOException(where + ": field '" + field + "' must be a string");
        return v.asText();
    }

    private static double number(JsonNode root, String field, String where) throws IOException {
        JsonNode v = root.get(field);
        if (v == null || !v.isNumber()) throw new IOException(where + ": field '" + field + "' must be a number");
        return v.asDouble();
    }
}
