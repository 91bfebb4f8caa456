package ai.aether.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static ai.aether.kernels.quant.VectorShapes.BYTES;
import static ai.aether.kernels.quant.VectorShapes.FLOATS;

/**
 * Q8_0 as {@link RowGroups}: per group and block the GROUP fp16 scales {@code d}, then 32 chunks
 * of one int8 per row (column k of every row of the group): the file's 34 bytes per row and block.
 * The tied output head of SmolLM2 ([49152][576], read once per decoded token) is the largest user.
 */
final class Q8RowGroups extends RowGroups {
    private static final int GROUP_BLOCK_BYTES = HALVES + BLOCK * GROUP;

    private Q8RowGroups(int rows, int cols, byte[] packed) {
        super(rows, cols, GROUP_BLOCK_BYTES, packed);
    }

    /** Repacks {@code rows} rows of {@code cols} Q8_0 values (34-byte blocks: fp16 d, 32 int8); null when too large. */
    static Q8RowGroups pack(MemorySegment data, int rows, int cols) {
        int blocks = cols / BLOCK, bytes = packedBytes(rows, cols, GROUP_BLOCK_BYTES);
        if (bytes < 0) return null;
        byte[] packed = new byte[bytes];
        byte[] block = new byte[2 + BLOCK];
        for (int r = 0; r < rows; r++) {
            int lane = r % GROUP;
            for (int b = 0; b < blocks; b++) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, ((long) r * blocks + b) * block.length, block, 0, block.length);
                int at = ((r / GROUP) * blocks + b) * GROUP_BLOCK_BYTES;
                packed[at + 2 * lane] = block[0];
                packed[at + 2 * lane + 1] = block[1];
                for (int k = 0; k < BLOCK; k++) packed[at + HALVES + k * GROUP + lane] = block[2 + k];
            }
        }
        return new Q8RowGroups(rows, cols, packed);
    }

    @Override
    void matVec(float[] x, float[] y, int groupFrom, int groupTo) {
        for (int g = groupFrom; g < groupTo; g++) {
            FloatVector acc = FloatVector.zero(FLOATS);
            for (int b = 0; b < blocks; b++) {
                int at = (g * blocks + b) * GROUP_BLOCK_BYTES, q = at + HALVES, xb = b * BLOCK;
                // Two chains (columns k and k + 16) so consecutive fmas do not wait on each other.
                FloatVector low = FloatVector.zero(FLOATS), high = low;
                for (int k = 0; k < 16; k++) {
                    low = column(q, k).fma(FloatVector.broadcast(FLOATS, x[xb + k]), low);
                    high = column(q, k + 16).fma(FloatVector.broadcast(FLOATS, x[xb + k + 16]), high);
                }
                acc = low.add(high).fma(halves(at), acc);
            }
            store(acc, y, g * GROUP, g);
        }
    }

    /** Column k of the group's block at q: one int8 per row, as floats. */
    private FloatVector column(int q, int k) {
        return (FloatVector) ByteVector.fromArray(BYTES, packed, q + k * GROUP).convertShape(VectorOperators.B2F, FLOATS, 0);
    }

    @Override
    void dequantizeGroup(int g, float[] tile, float[] scales) {
        for (int b = 0; b < blocks; b++) {
            int at = (g * blocks + b) * GROUP_BLOCK_BYTES, q = at + HALVES;
            halvesInto(at, scales, 0);
            FloatVector d = FloatVector.fromArray(FLOATS, scales, 0);
            for (int k = 0; k < BLOCK; k++) {  // column(q, k) written out: no vector may come back from a call here (see RowGroups)
                ((FloatVector) ByteVector.fromArray(BYTES, packed, q + k * GROUP).convertShape(VectorOperators.B2F, FLOATS, 0)).mul(d)
                        .intoArray(tile, (b * BLOCK + k) * GROUP);
            }
        }
    }

    @Override
    void dequantize(int row, float[] out, int outOff) {
        int g = row / GROUP, lane = row % GROUP;
        for (int b = 0; b < blocks; b++) {
            int at = (g * blocks + b) * GROUP_BLOCK_BYTES;
            float d = half(at + 2 * lane);
            for (int k = 0; k < BLOCK; k++) out[outOff + b * BLOCK + k] = packed[at + HALVES + k * GROUP + lane] * d;
        }
    }
}
