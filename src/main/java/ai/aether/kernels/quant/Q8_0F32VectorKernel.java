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

/** Q8_0 weights x fp32 activations: int8 lanes widened to floats, one fp16 scale per 32 values. */
final class Q8_0F32VectorKernel implements RowKernel {
    static final Q8_0F32VectorKernel INSTANCE = new Q8_0F32VectorKernel();
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = 32, BLOCK_BYTES = 34;

    private Q8_0F32VectorKernel() {}

    @Override
    public void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff) {
        for (int b = 0; b < cols / BLOCK; b++) {
            long block = rowOffset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(SHORT, block));
            for (int j = 0; j < BLOCK; j += LANES) {
                ByteVector q = ByteVector.fromMemorySegment(BYTES, data, block + 2 + j, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) q.convertShape(VectorOperators.B2F, FLOATS, 0)).mul(d).intoArray(out, outOff + b * BLOCK + j);
            }
        }
    }

    @Override
    public float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch) {
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int b = 0; b < cols / BLOCK; b++) {
            long block = rowOffset + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(FLOATS, Float.float16ToFloat(data.get(SHORT, block)));
            int xb = xOff + b * BLOCK;
            FloatVector blockSum = FloatVector.zero(FLOATS);
            for (int j = 0; j < BLOCK; j += LANES) {
                ByteVector q = ByteVector.fromMemorySegment(BYTES, data, block + 2 + j, ByteOrder.LITTLE_ENDIAN);
                FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, FLOATS, 0);
                blockSum = w.fma(FloatVector.fromArray(FLOATS, x, xb + j), blockSum);
            }
            acc = blockSum.fma(d, acc);
        }
        return Lanes.sum(acc);
    }
}
