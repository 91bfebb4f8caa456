package ai.aether.attention;

/** How {@link SelectionMode#THRESHOLD} reads {@link AetherConfig#threshold()}. */
public enum ThresholdMode {
    /**
     * Scale-free default: a block is kept when its estimated share of the query's attention mass,
     * {@code n_b exp(s_b - M) / sum_b' n_b' exp(s_b' - M)} over the radar scores {@code s} of the
     * scored blocks, reaches the threshold for at least one query head of the group. Independent of
     * the model's logit scale: adding a constant to every logit changes nothing.
     */
    MASS_SHARE,
    /** The seed's compatibility mode: keep a block when its raw score exceeds the threshold. */
    ABSOLUTE
}
