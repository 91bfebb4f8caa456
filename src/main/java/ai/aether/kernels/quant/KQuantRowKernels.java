package ai.aether.kernels.quant;

import ai.aether.kernels.ops.VectorMath;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Row kernels for the k-quant formats (256-value super-blocks). Each super-block is decoded into
 * a 256-float scratch buffer (L1-resident) and dotted there, so a row is decoded exactly once
 * per dot; none of the shipped models use these formats, so this favours clarity over the last
 * factor of speed.
 */
final class KQuantRowKernels {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int SUPER_BLOCK = 256;

    private KQuantRowKernels() {}

    /** Decoder of one super-block into out[outOff .. outOff+256). */
    @FunctionalInterface
    private interface SuperBlockDecoder {
        void decode(MemorySegment data, long block, float[] out, int outOff);
    }

    private record Kernel(int blockBytes, SuperBlockDecoder decoder) implements RowKernel {
        @Override
        public void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff) {
            for (int b = 0; b < cols / SUPER_BLOCK; b++) {
                decoder.decode(data, rowOffset + (long) b * blockBytes, out, outOff + b * SUPER_BLOCK);
            }
        }

        @Override
        public float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch) {
            float sum = 0;
            for (int b = 0; b < cols / SUPER_BLOCK; b++) {
                decoder.decode(data, rowOffset + (long) b * blockBytes, scratch, 0);
                sum += VectorMath.dot(scratch, 0, x, xOff + b * SUPER_BLOCK, SUPER_BLOCK);
            }
            return sum;
        }

        @Override
        public int scratchSize() {
            return SUPER_BLOCK;
        }
    }

    static final RowKernel Q4_K = new Kernel(144, KQuantRowKernels::decodeQ4K);
    static final RowKernel Q5_K = new Kernel(176, KQuantRowKernels::decodeQ5K);
    static final RowKernel Q6_K = new Kernel(210, KQuantRowKernels::decodeQ6K);

    private static int u8(MemorySegment data, long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /**
     * The 6-bit scale (index 0) and min (index 1) of sub-block j (0..7) from the 12 packed bytes:
     * sub-blocks 0..3 keep theirs in the low 6 bits of bytes j and j+4; 4..7 take 4 bits from byte
     * j+4 and their top 2 bits from the spare high bits of bytes j-4 and j.
     */
    private static void scaleAndMin(MemorySegment data, long scales, int j, int[] out) {
        if (j < 4) {
            out[0] = u8(data, scales + j) & 63;
            out[1] = u8(data, scales + j + 4) & 63;
        } else {
            out[0] = (u8(data, scales + j + 4) & 0x0F) | ((u8(data, scales + j - 4) >> 6) << 4);
            out[1] = (u8(data, scales + j + 4) >> 4) | ((u8(data, scales + j) >> 6) << 4);
        }
    }

    /** Q4_K: 8 sub-blocks of 32; pairs of sub-blocks share 32 bytes (low nibbles, then high). */
    private static void decodeQ4K(MemorySegment data, long block, float[] out, int outOff) {
        float d = Float.float16ToFloat(data.get(SHORT, block));
        float dMin = Float.float16ToFloat(data.get(SHORT, block + 2));
        long scales = block + 4, quants = block + 16;
        int[] scaleMin = new int[2];
        for (int pair = 0; pair < 4; pair++) {
            scaleAndMin(data, scales, 2 * pair, scaleMin);
            float d1 = d * scaleMin[0], m1 = dMin * scaleMin[1];
            scaleAndMin(data, scales, 2 * pair + 1, scaleMin);
            float d2 = d * scaleMin[0], m2 = dMin * scaleMin[1];
            int o = outOff + pair * 64;
            for (int l = 0; l < 32; l++) {
                int q = u8(data, quants + pair * 32L + l);
                out[o + l] = d1 * (q & 0x0F) - m1;
                out[o + 32 + l] = d2 * (q >> 4) - m2;
            }
        }
    }

    /** Q5_K: as Q4_K plus a fifth bit per value; sub-block 2p+s takes bit (2p+s) of qh[l]. */
    private static void decodeQ5K(MemorySegment data, long block, float[] out, int outOff) {
        float d = Float.float16ToFloat(data.get(SHORT, block));
        float dMin = Float.float16ToFloat(data.get(SHORT, block + 2));
        long scales = block + 4, highBits = block + 16, quants = block + 48;
        int[] scaleMin = new int[2];
        for (int pair = 0; pair < 4; pair++) {
            scaleAndMin(data, scales, 2 * pair, scaleMin);
            float d1 = d * scaleMin[0], m1 = dMin * scaleMin[1];
            scaleAndMin(data, scales, 2 * pair + 1, scaleMin);
            float d2 = d * scaleMin[0], m2 = dMin * scaleMin[1];
            int o = outOff + pair * 64;
            for (int l = 0; l < 32; l++) {
                int q = u8(data, quants + pair * 32L + l);
                int h = u8(data, highBits + l);
                out[o + l] = d1 * ((q & 0x0F) + (((h >> (2 * pair)) & 1) << 4)) - m1;
                out[o + 32 + l] = d2 * ((q >> 4) + (((h >> (2 * pair + 1)) & 1) << 4)) - m2;
            }
        }
    }

    /** Q6_K: two halves of 128; each value = 4 low bits from ql, 2 high bits from qh, minus 32. */
    private static void decodeQ6K(MemorySegment data, long block, float[] out, int outOff) {
        float d = Float.float16ToFloat(data.get(SHORT, block + 208));
        long scales = block + 192;
        for (int half = 0; half < 2; half++) {
            long low = block + half * 64L, high = block + 128 + half * 32L;
            int o = outOff + half * 128;
            int scaleBase = half * 8;
            for (int l = 0; l < 32; l++) {
                int ql0 = u8(data, low + l), ql1 = u8(data, low + 32 + l), qh = u8(data, high + l);
                int q1 = ((ql0 & 0x0F) | ((qh & 3) << 4)) - 32;
                int q2 = ((ql1 & 0x0F) | (((qh >> 2) & 3) << 4)) - 32;
                int q3 = ((ql0 >> 4) | (((qh >> 4) & 3) << 4)) - 32;
                int q4 = ((ql1 >> 4) | (((qh >> 6) & 3) << 4)) - 32;
                int is = scaleBase + l / 16;
                out[o + l] = d * data.get(ValueLayout.JAVA_BYTE, scales + is) * q1;
                out[o + 32 + l] = d * data.get(ValueLayout.JAVA_BYTE, scales + is + 2) * q2;
                out[o + 64 + l] = d * data.get(ValueLayout.JAVA_BYTE, scales + is + 4) * q3;
                out[o + 96 + l] = d * data.get(ValueLayout.JAVA_BYTE, scales + is + 6) * q4;
            }
        }
    }
}
