package ai.aether.bench;

import ai.aether.attention.GroupCombine;
import ai.aether.attention.RadarScore;

import java.util.Locale;

/**
 * One row family of the benchmark: an AETHER radar score with its GQA group combiner (selection by
 * {@link ai.aether.attention.BlockSelector}) or a baseline at the same block budget.
 *
 * @param name    short name shown in tables, e.g. "quantized-box+sum", "shrunk-box", "oracle"
 * @param kind    what selects the blocks
 * @param score   the radar score for AETHER and QUEST rows, else null
 * @param combine how a GQA group's scores combine (radar rows), else null
 */
public record Method(String name, Kind kind, RadarScore score, GroupCombine combine) {

    public enum Kind {
        /** An AETHER radar score, through the attention package's selector. */
        AETHER,
        /** Quest's per-channel min/max bound, through the same selector (RadarScore.QUEST, max over the group). */
        QUEST,
        /** Top-k blocks by true attention mass summed over the GQA group (needs dense attention: an upper bound, not a method). */
        ORACLE,
        /** StreamingLLM: the sink blocks plus the newest blocks, the window grown to the budget. */
        SINK_WINDOW,
        /** Sink and local-window blocks plus uniformly random others. */
        RANDOM
    }

    /**
     * The row for a radar score and group combiner (QUEST becomes the Quest baseline). Named after
     * the score, with "+sum" when the group is combined by SOFTMAX_SUM: "shrunk-box", "quantized-box+sum".
     */
    public static Method of(RadarScore score, GroupCombine combine) {
        String name = score.name().toLowerCase(Locale.ROOT).replace('_', '-') + (combine == GroupCombine.SOFTMAX_SUM ? "+sum" : "");
        return new Method(name, score == RadarScore.QUEST ? Kind.QUEST : Kind.AETHER, score, combine);
    }

    public static final Method ORACLE = new Method("oracle", Kind.ORACLE, null, null);
    public static final Method SINK_WINDOW = new Method("sink+window", Kind.SINK_WINDOW, null, null);
    public static final Method RANDOM = new Method("random", Kind.RANDOM, null, null);

    /** Whether the selection runs through the radar (and so is timed with it). */
    public boolean usesRadar() {
        return score != null;
    }
}
