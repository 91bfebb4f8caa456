package ai.aether.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static ai.aether.kernels.quant.VectorShapes.BYTES;
import static ai.aether.kernels.quant.VectorShapes.FLOATS;

/**
 * Q4_0 and Q4_1 as {@link RowGroups}: per group and block the GROUP fp16 scales {@code d}, for
 * Q4_1 the GROUP fp16 minimums {@code m} (Q4_0's is -8 d), then 16 chunks of one byte per row
 * holding columns k (low nibble) and k + 16 (high nibble), as in ggml's block: the file's 20 (18)
 * bytes per row and block.
 */
final class Q4RowGroups extends RowGroups {
    private final boolean storedMin;   // Q4_1: m stored; Q4_0: m = -8 d

    private Q4RowGroups(int rows, int cols, boolean storedMin, byte[] packed) {
        super(rows, cols, groupBlockBytes(storedMin), packed);
        this.storedMin = storedMin;
    }

    private static int groupBlockBytes(boolean storedMin) {
        return (storedMin ? 2 : 1) * HALVES + 16 * GROUP;
    }

    /**
     * Repacks {@code rows} rows of {@code cols} values stored as ggml Q4_0 ({@code storedMin}
     * false: 18-byte blocks fp16 d, 16 nibble bytes) or Q4_1 (20-byte blocks fp16 d, fp16 m, 16
     * nibble bytes); null when the nibbles would not fit one Java array (the caller keeps the
     * in-place kernel). The lanes of a last, partial group are zero.
     */
    static Q4RowGroups pack(MemorySegment data, int rows, int cols, boolean storedMin) {
        int blocks = cols / BLOCK, groupBlockBytes = groupBlockBytes(storedMin), bytes = packedBytes(rows, cols, groupBlockBytes);
        if (bytes < 0) return null;
        int blockBytes = storedMin ? 20 : 18, quantsOffset = storedMin ? 4 : 2, nibblesAt = (storedMin ? 2 : 1) * HALVES;
        byte[] packed = new byte[bytes];
        byte[] block = new byte[blockBytes];
        for (int r = 0; r < rows; r++) {
            int lane = r % GROUP;
            for (int b = 0; b < blocks; b++) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, ((long) r * blocks + b) * blockBytes, block, 0, blockBytes);
                int at = ((r / GROUP) * blocks + b) * groupBlockBytes;
                packed[at + 2 * lane] = block[0];
                packed[at + 2 * lane + 1] = block[1];
                if (storedMin) {
                    packed[at + HALVES + 2 * lane] = block[2];
                    packed[at + HALVES + 2 * lane + 1] = block[3];
                }
                for (int k = 0; k < 16; k++) packed[at + nibblesAt + k * GROUP + lane] = block[quantsOffset + k];
            }
        }
        return new Q4RowGroups(rows, cols, storedMin, packed);
    }

    @Override
    void matVec(float[] x, float[] y, int groupFrom, int groupTo) {
        float[] blockSums = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            float s = 0;
            for (int j = 0; j < BLOCK; j++) s += x[b * BLOCK + j];
            blockSums[b] = s;
        }
        for (int g = groupFrom; g < groupTo; g++) {
            FloatVector acc = FloatVector.zero(FLOATS);
            for (int b = 0; b < blocks; b++) {
                int at = (g * blocks + b) * groupBlockBytes, q = at + (storedMin ? 2 * HALVES : HALVES), xb = b * BLOCK;
                // Two chains (columns k and k + 16) so consecutive fmas do not wait on each other.
                FloatVector low = FloatVector.zero(FLOATS), high = low;
                for (int k = 0; k < 16; k++) {
                    IntVector nibbles = (IntVector) ByteVector.fromArray(BYTES, packed, q + k * GROUP).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                    low = ((FloatVector) nibbles.and(0x0F).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOATS, x[xb + k]), low);
                    high = ((FloatVector) nibbles.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOATS, x[xb + k + 16]), high);
                }
                FloatVector d = halves(at);
                acc = low.add(high).fma(d, acc);
                acc = (storedMin ? halves(at + HALVES) : d.mul(-8f)).fma(FloatVector.broadcast(FLOATS, blockSums[b]), acc);
            }
            store(acc, y, g * GROUP, g);
        }
    }

    @Override
    void dequantizeGroup(int g, float[] tile, float[] scales) {
        for (int b = 0; b < blocks; b++) {
            int at = (g * blocks + b) * groupBlockBytes, q = at + (storedMin ? 2 * HALVES : HALVES);
            halvesInto(at, scales, 0);
            if (storedMin) halvesInto(at + HALVES, scales, GROUP);
            FloatVector d = FloatVector.fromArray(FLOATS, scales, 0), m = storedMin ? FloatVector.fromArray(FLOATS, scales, GROUP) : d.mul(-8f);
            for (int k = 0; k < 16; k++) {
                IntVector nibbles = (IntVector) ByteVector.fromArray(BYTES, packed, q + k * GROUP).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                ((FloatVector) nibbles.and(0x0F).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(tile, (b * BLOCK + k) * GROUP);
                ((FloatVector) nibbles.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(tile, (b * BLOCK + k + 16) * GROUP);
            }
        }
    }

    @Override
    void dequantize(int row, float[] out, int outOff) {
        int g = row / GROUP, lane = row % GROUP;
        for (int b = 0; b < blocks; b++) {
            int at = (g * blocks + b) * groupBlockBytes, q = at + (storedMin ? 2 * HALVES : HALVES);
            float d = half(at + 2 * lane), m = storedMin ? half(at + HALVES + 2 * lane) : -8f * d;
            for (int k = 0; k < 16; k++) {
                int nibbles = packed[q + k * GROUP + lane] & 0xFF;
                out[outOff + b * BLOCK + k] = Math.fma(nibbles & 0x0F, d, m);
                out[outOff + b * BLOCK + k + 16] = Math.fma(nibbles >>> 4, d, m);
            }
        }
    }
}
