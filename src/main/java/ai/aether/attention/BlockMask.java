package ai.aether.attention;

import java.util.Arrays;

/**
 * Which blocks each selection list keeps: {@code [batch][lists][blocks]}, row-major, where lists
 * are the KV heads (SHARED_MAX) or the query heads (PER_QUERY_HEAD).
 */
public record BlockMask(boolean[] data, int[] shape) {

    public BlockMask {
        if (data == null || shape == null || shape.length != 3) throw new IllegalArgumentException("a block mask is [batch][lists][blocks]");
        if ((long) shape[0] * shape[1] * shape[2] != data.length) {
            throw new IllegalArgumentException("mask shape " + Arrays.toString(shape) + " does not match " + data.length + " entries");
        }
        shape = shape.clone();
    }

    @Override
    public int[] shape() { return shape.clone(); }

    public int batch() { return shape[0]; }
    public int lists() { return shape[1]; }
    public int blocks() { return shape[2]; }

    public boolean kept(int b, int list, int block) {
        return data[(b * shape[1] + list) * shape[2] + block];
    }

    /** Kept blocks over the whole mask. */
    public int keptCount() {
        int n = 0;
        for (boolean k : data) if (k) n++;
        return n;
    }

    /** A mask keeping every block. */
    public static BlockMask all(int batch, int lists, int blocks) {
        boolean[] data = new boolean[batch * lists * blocks];
        Arrays.fill(data, true);
        return new BlockMask(data, new int[] {batch, lists, blocks});
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockMask m && Arrays.equals(shape, m.shape) && Arrays.equals(data, m.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }
}
