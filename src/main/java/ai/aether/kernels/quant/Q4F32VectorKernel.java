package ai.aether.kernels.quant;

import ai.aether.kernels.ops.Lanes;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static ai.aether.kernels.quant.VectorShapes.BYTES;
import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/**
 * Q4_0 and Q4_1 weights x fp32 activations. Both hold 32 nibbles per block (low nibbles are
 * values 0..15, high nibbles 16..31) decoded as x = d*q + m, with m = -8d for Q4_0 and a stored
 * fp16 m for Q4_1, so one loop serves both: nibbles widen to float lanes, fma(q, d, m) rebuilds
 * the weight and a second fma accumulates it against the activations.
 */
final class Q4F32VectorKernel implements RowKernel {
    static final Q4F32VectorKernel Q4_0 = new Q4F32VectorKernel(false);
    static final Q4F32VectorKernel Q4_1 = new Q4F32VectorKernel(true);

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = 32;

    private final boolean storedMin;
    private final int blockBytes;
    private final int quantsOffset;

    private Q4F32VectorKernel(boolean storedMin) {
        this.storedMin = storedMin;
        this.blockBytes = storedMin ? 20 : 18;
        this.quantsOffset = storedMin ? 4 : 2;
    }

    @Override
    public void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff) {
        for (int b = 0; b < cols / BLOCK; b++) {
            long block = rowOffset + (long) b * blockBytes;
            float dScalar = Float.float16ToFloat(data.get(SHORT, block));
            FloatVector d = FloatVector.broadcast(FLOATS, dScalar);
            FloatVector m = FloatVector.broadcast(FLOATS, storedMin ? Float.float16ToFloat(data.get(SHORT, block + 2)) : -8f * dScalar);
            int o = outOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j += LANES) {
                ByteVector packed = ByteVector.fromMemorySegment(BYTES, data, block + quantsOffset + j, ByteOrder.LITTLE_ENDIAN);
                low(packed).fma(d, m).intoArray(out, o + j);
                high(packed).fma(d, m).intoArray(out, o + BLOCK / 2 + j);
            }
        }
    }

    @Override
    public float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch) {
        FloatVector acc0 = FloatVector.zero(FLOATS), acc1 = FloatVector.zero(FLOATS);
        for (int b = 0; b < cols / BLOCK; b++) {
            long block = rowOffset + (long) b * blockBytes;
            float dScalar = Float.float16ToFloat(data.get(SHORT, block));
            FloatVector d = FloatVector.broadcast(FLOATS, dScalar);
            FloatVector m = FloatVector.broadcast(FLOATS, storedMin ? Float.float16ToFloat(data.get(SHORT, block + 2)) : -8f * dScalar);
            int xb = xOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j += LANES) {
                ByteVector packed = ByteVector.fromMemorySegment(BYTES, data, block + quantsOffset + j, ByteOrder.LITTLE_ENDIAN);
                acc0 = low(packed).fma(d, m).fma(FloatVector.fromArray(FLOATS, x, xb + j), acc0);
                acc1 = high(packed).fma(d, m).fma(FloatVector.fromArray(FLOATS, x, xb + BLOCK / 2 + j), acc1);
            }
        }
        return Lanes.sum(acc0.add(acc1));
    }

    private static FloatVector low(ByteVector packed) {
        return (FloatVector) packed.and((byte) 0x0F).convertShape(VectorOperators.B2F, FLOATS, 0);
    }

    private static FloatVector high(ByteVector packed) {
        // x86 has no byte shift: shift 16-bit lanes (native) and mask the bits carried across bytes.
        ByteVector shifted = packed.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes();
        return (FloatVector) shifted.and((byte) 0x0F).convertShape(VectorOperators.B2F, FLOATS, 0);
    }
}
