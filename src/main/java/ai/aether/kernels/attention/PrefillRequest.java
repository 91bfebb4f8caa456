package ai.aether.kernels.attention;

/**
 * Causal attention for {@code tokenCount} consecutive new tokens at positions
 * {@code firstPosition .. firstPosition+tokenCount-1}, whose keys and values are already in the
 * cache: token i attends to every cached position {@code <= firstPosition + i}.
 *
 * @param blockTable    {@code [kvHeads][blocks]} physical block ids in position order, covering at least
 *                      {@code firstPosition + tokenCount} tokens
 * @param firstPosition position of the first new token, >= 0
 * @param tokenCount    number of new tokens, >= 1
 * @param queryHeads    query heads, a multiple of kvHeads
 * @param queries       {@code [tokenCount][queryHeads][headDim]}, post-RoPE, unscaled
 * @param out           {@code [tokenCount][queryHeads][headDim]}, overwritten
 */
public record PrefillRequest(int[][] blockTable, int firstPosition, int tokenCount, int queryHeads,
                             float[] queries, float[] out) {

    public PrefillRequest {
        if (blockTable == null || blockTable.length == 0) throw new IllegalArgumentException("blockTable must list at least one KV head");
        if (firstPosition < 0) throw new IllegalArgumentException("firstPosition must be >= 0, got " + firstPosition);
        if (tokenCount < 1) throw new IllegalArgumentException("tokenCount must be >= 1, got " + tokenCount);
        if (queryHeads < 1 || queryHeads % blockTable.length != 0) {
            throw new IllegalArgumentException("queryHeads must be a positive multiple of kvHeads (" + blockTable.length + "), got " + queryHeads);
        }
    }

    public int kvHeads() { return blockTable.length; }
}
