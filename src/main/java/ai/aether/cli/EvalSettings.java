package ai.aether.cli;

import ai.aether.attention.AetherConfig;
import ai.aether.attention.GroupCombine;
import ai.aether.attention.LayerBudgets;
import ai.aether.attention.RadarScore;
import ai.aether.attention.SelectionMode;
import ai.aether.engine.SideBySide.Setting;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The settings an evaluation compares: dense first, then one AETHER setting per
 * {@code --sparsities} entry and per {@code --setting SPEC}, each starting from the shared AETHER
 * flags. With neither, target sparsities 0.8 and 0.9, or, when the flags pick a selection
 * ({@code --selection}, {@code --target-sparsity}, {@code --threshold}, {@code --top-k-blocks},
 * {@code --epsilon}), that one configuration.
 *
 * <p>A SPEC is comma-separated {@code key=value} pairs overriding the shared flags:
 * {@value #KEYS}. Block size and KV type stay shared: every setting decodes the same stored blocks.
 * Example: {@code --setting sparsity=0.9,window=1,name=0.9-w1}.
 */
final class EvalSettings {
    static final String KEYS = "name, sparsity, threshold, top-k, epsilon, selection, window, sinks, dense-layers (e.g. 0:1), "
            + "min-seq, min-kept, reselect, score, combine, budgets, rerank, rerank-layers (e.g. 7:8), rerank-share";
    static final List<Double> DEFAULT_SPARSITIES = List.of(0.8, 0.9);

    private EvalSettings() {}

    static List<Setting> resolve(AetherOptions shared, List<Double> sparsities, List<String> specs) {
        if (shared.dense) throw new IllegalArgumentException("--dense does not apply to eval: dense is always the first setting");
        AetherConfig base = shared.config();
        List<Setting> settings = new ArrayList<>();
        settings.add(Setting.dense());
        List<Double> targets = sparsities;
        if (sparsities.isEmpty() && specs.isEmpty()) {
            boolean picked = shared.selection != null || shared.targetSparsity != null || shared.threshold != null || shared.topK != null
                    || shared.epsilon != null;
            if (picked) {
                settings.add(new Setting("aether " + shortName(base), base));
                return settings;
            }
            targets = DEFAULT_SPARSITIES;
        }
        for (double s : targets) {
            if (!(s >= 0 && s < 1)) throw new IllegalArgumentException("--sparsities entries must be in [0, 1), got " + s);
            AetherConfig c = base.toBuilder().selection(SelectionMode.TARGET_SPARSITY).targetSparsity(s).build();
            settings.add(new Setting(String.format(Locale.ROOT, "aether-%.2f", s), c));
        }
        for (String spec : specs) settings.add(parse(spec, base));
        List<String> names = settings.stream().map(Setting::name).toList();
        for (String name : names) {
            if (names.indexOf(name) != names.lastIndexOf(name)) throw new IllegalArgumentException("two settings are named '" + name + "'; give name=...");
        }
        return settings;
    }

    /** One {@code --setting} SPEC over {@code base}; giving sparsity, threshold, top-k or epsilon picks that selection. */
    static Setting parse(String spec, AetherConfig base) {
        AetherConfig.Builder b = base.toBuilder();
        String name = null;
        SelectionMode implied = null, explicit = null;
        if (spec.isBlank()) throw new IllegalArgumentException("--setting is empty; give key=value pairs (" + KEYS + ")");
        for (String pair : spec.split(",")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                throw new IllegalArgumentException("--setting '" + spec + "': '" + pair + "' is not key=value (keys: " + KEYS + ")");
            }
            String key = pair.substring(0, eq).strip(), value = pair.substring(eq + 1).strip();
            String where = "--setting '" + spec + "': " + key;
            switch (key) {
                case "name" -> name = value;
                case "sparsity" -> { b.targetSparsity(number(where, value)); implied = imply(where, implied, SelectionMode.TARGET_SPARSITY); }
                case "threshold" -> { b.threshold(number(where, value)); implied = imply(where, implied, SelectionMode.THRESHOLD); }
                case "top-k" -> { b.topK(integer(where, value)); implied = imply(where, implied, SelectionMode.TOP_K); }
                case "epsilon" -> { b.epsilon(number(where, value)); implied = imply(where, implied, SelectionMode.CERTIFIED); }
                case "selection" -> explicit = constant(where, value, SelectionMode.class, SelectionMode::valueOf);
                case "window" -> b.localWindow(integer(where, value));
                case "sinks" -> b.sinkBlocks(integer(where, value));
                case "min-seq" -> b.minSeqLength(integer(where, value));
                case "min-kept" -> b.minKeptTokens(integer(where, value));
                case "reselect" -> b.reselectInterval(integer(where, value));
                case "dense-layers" -> b.denseLayers(layers(where, value));
                case "score" -> b.radarScore(constant(where, value, RadarScore.class, RadarScore::valueOf));
                case "combine" -> b.groupCombine(constant(where, value, GroupCombine.class, GroupCombine::valueOf));
                case "budgets" -> b.layerBudgets(constant(where, value, LayerBudgets.class, LayerBudgets::valueOf));
                case "rerank" -> b.rerankFactor(number(where, value));
                case "rerank-layers" -> b.rerankLayers(layers(where, value));
                case "rerank-share" -> b.rerankShare(number(where, value));
                case "block-size", "kv" -> throw new IllegalArgumentException(where + " cannot differ between settings (they decode the same "
                        + "stored blocks); give --block-size / --kv once");
                default -> throw new IllegalArgumentException(where + " is not a setting key; keys: " + KEYS);
            }
        }
        b.selection(explicit != null ? explicit : implied != null ? implied : base.selection());
        AetherConfig config;
        try {
            config = b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--setting '" + spec + "': " + e.getMessage());
        }
        return new Setting(name != null ? name : "aether " + spec, config);
    }

    /** "0.80", "thr 0.002", "top-16", "eps 0.01": the selection's knob. */
    static String shortName(AetherConfig c) {
        return switch (c.selection()) {
            case TARGET_SPARSITY -> String.format(Locale.ROOT, "%.2f", c.targetSparsity());
            case THRESHOLD -> "thr " + c.threshold();
            case TOP_K -> "top-" + c.topK();
            case CERTIFIED -> "eps " + c.epsilon();
        };
    }

    private static SelectionMode imply(String where, SelectionMode previous, SelectionMode next) {
        if (previous != null && previous != next) throw new IllegalArgumentException(where + " picks " + next + " but an earlier key picked " + previous
                + "; give one of sparsity, threshold, top-k, epsilon (or selection=...)");
        return next;
    }

    private static double number(String where, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + " must be a number, got '" + value + "'");
        }
    }

    /** Layer indices separated by ':' (e.g. 0:1), or none. */
    private static java.util.Set<Integer> layers(String where, String value) {
        return value.equals("none") ? java.util.Set.of()
                : Arrays.stream(value.split(":")).map(v -> integer(where, v)).collect(java.util.stream.Collectors.toSet());
    }

    private static int integer(String where, String value) {
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + " must be an integer, got '" + value + "'");
        }
    }

    private static <E extends Enum<E>> E constant(String where, String value, Class<E> type, Function<String, E> valueOf) {
        try {
            return valueOf.apply(value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " must be one of " + Arrays.toString(type.getEnumConstants()) + ", got '" + value + "'");
        }
    }
}
