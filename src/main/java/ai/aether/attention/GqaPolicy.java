package ai.aether.attention;

/** How query heads that share a KV head (GQA) share a selection. */
public enum GqaPolicy {
    /** One selection per KV head from the max of its query heads' scores; each kept block is read once per group. */
    SHARED_MAX,
    /** Each query head selects its own blocks (more KV reads; the kernel serves each head alone). */
    PER_QUERY_HEAD
}
