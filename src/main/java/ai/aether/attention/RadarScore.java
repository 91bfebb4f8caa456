package ai.aether.attention;

/**
 * The per-block "attention potential" the event radar computes for a query (SPEC 1.2). Which are
 * true upper bounds on the block's largest logit and which are heuristics is stated on each
 * constant and in docs/aether-scores.md. All scores are in logit units (already times 1/sqrt(D)).
 */
public enum RadarScore {
    /**
     * Seed basic score {@code (q.mu + |q| r) * scale}: bounds the direction part {@code q.khat} of every
     * key, not the logit (keys have norms), so heuristic. {@code useVariance} / {@code useConcentration}
     * modify it as in the seed.
     */
    BASIC,
    /** Seed variance-aware score: the deviation term times {@code (1 + sqrt(var))}. Heuristic. */
    VARIANCE,
    /** Seed "tight bound": the deviation term times {@code (0.3 + 0.7 conc)}; tightens past the bound. Heuristic. */
    CONCENTRATION,
    /**
     * Seed causal variant: the BASIC score (with the config's variance / concentration flags) plus a
     * recency bonus {@code |s| * recencyBonus * recencyDecay^(newest block - b)} favouring RECENT blocks. Heuristic.
     */
    CAUSAL,
    /**
     * True upper bound on the block's largest logit: {@code min(ball, box) * scale} with ball
     * {@code q.c + |q| R} (raw centroid and radius) and box {@code sum_d max(q_d lo_d, q_d hi_d)}
     * (per-channel key range), plus a margin covering fp32 rounding. Certified.
     */
    CERTIFIED,
    /** Quest: the per-channel min/max box bound {@code q.center + sum_d |q_d| halfwidth_d}. A bound in exact arithmetic, computed in fp32 without a rounding margin (a baseline). */
    QUEST,
    /**
     * Shrunk box: {@code q.center + beta * sum_d |q_d| halfwidth_d} with beta = shrinkFactor (0.5), on the
     * fp32 box. Same metadata and bytes as QUEST, better mass recall on real KV (research note); an estimate, not a bound.
     */
    SHRUNK_BOX,
    /**
     * Quantised shrunk box (default): the shrunk-box estimate {@code q.c + beta * sum_d |q_d| h_d} with
     * c and h decoded from the block's 8-bit outward-rounded key box (2D + 4 bytes per block, a quarter
     * of the fp32 box). An estimate, not a bound; CERTIFIED selection with this score ranks and bounds by
     * {@link #QUANTIZED_BOUND}, which reads the same bytes.
     */
    QUANTIZED_BOX,
    /**
     * True upper bound on the block's largest logit from the 8-bit quantised box alone:
     * {@code q.c + sum_d |q_d| h_d} (beta = 1; the decoded box contains every key) plus a margin
     * covering fp32 rounding. Certified.
     */
    QUANTIZED_BOUND,
    /**
     * Key sketch: the block's largest logit estimated token by token on a few channels,
     * {@code q.c + max_t sum_{d in S} q_d (k_td - c_d)} with c the quantised box centre and S the
     * block's sketched channels (int8 codes per token, {@link BlockMetadataStore}). A block whose
     * attention hangs on one or two keys (a retrieval head finding a fact) stands out here, where a
     * box spreads them over every channel's extremes. An estimate, not a bound; CERTIFIED selection
     * uses {@link #QUANTIZED_BOUND} from the same record.
     */
    KEY_SKETCH,
    /**
     * Measurement reference, not a radar: the block's true log attention mass
     * {@code log sum_t exp(q.k_t / sqrt(D))} from every stored key, in float64. Ranked per KV head by
     * the softmax-sum combiner it is the oracle choice at the block budget (no estimator can keep more
     * attention mass with as many blocks), so evaluations can show the headroom of the real scores.
     * It reads all of K, so it saves no time; selection computes it ({@link BlockSelector}), the
     * metadata-only {@link EventRadar} cannot.
     */
    ORACLE;

    /** Whether this score never falls below the block's true largest logit. */
    public boolean isCertified() {
        return this == CERTIFIED || this == QUANTIZED_BOUND;
    }

    /** The certified score CERTIFIED selection uses when this score is configured (one reading the same metadata where one exists). */
    public RadarScore certifiedCounterpart() {
        return switch (this) {
            case QUANTIZED_BOX, QUANTIZED_BOUND, KEY_SKETCH -> QUANTIZED_BOUND;
            default -> CERTIFIED;
        };
    }
}
