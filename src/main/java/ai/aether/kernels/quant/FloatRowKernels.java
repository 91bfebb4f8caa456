package ai.aether.kernels.quant;

import ai.aether.kernels.ops.Lanes;
import ai.aether.kernels.ops.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static ai.aether.kernels.quant.VectorShapes.FLOATS;
import static ai.aether.kernels.quant.VectorShapes.LANES;

/** Row kernels for the unquantised formats F32, F16 and BF16 (Vector API, scalar tails). */
final class FloatRowKernels {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Short> SHORTS = LANES == 16 ? ShortVector.SPECIES_256 : ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> INTS = LANES == 16 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /** Values decoded per scratch round when a format has no fused dot. */
    private static final int CHUNK = 256;

    private FloatRowKernels() {}

    static final RowKernel F32 = new RowKernel() {
        @Override
        public void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff) {
            MemorySegment.copy(data, FLOAT, rowOffset, out, outOff, cols);
        }

        @Override
        public float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch) {
            int i = 0;
            int bound = FLOATS.loopBound(cols);
            FloatVector acc = FloatVector.zero(FLOATS);
            for (; i < bound; i += LANES) {
                FloatVector w = FloatVector.fromMemorySegment(FLOATS, data, rowOffset + 4L * i, ByteOrder.LITTLE_ENDIAN);
                acc = w.fma(FloatVector.fromArray(FLOATS, x, xOff + i), acc);
            }
            float sum = Lanes.sum(acc);
            for (; i < cols; i++) sum += data.get(FLOAT, rowOffset + 4L * i) * x[xOff + i];
            return sum;
        }
    };

    static final RowKernel F16 = new RowKernel() {
        @Override
        public void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff) {
            for (int i = 0; i < cols; i++) out[outOff + i] = Float.float16ToFloat(data.get(SHORT, rowOffset + 2L * i));
        }

        @Override
        public float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch) {
            float sum = 0;
            for (int start = 0; start < cols; start += CHUNK) {
                int n = Math.min(CHUNK, cols - start);
                dequantize(data, rowOffset + 2L * start, n, scratch, 0);
                sum += VectorMath.dot(scratch, 0, x, xOff + start, n);
            }
            return sum;
        }

        @Override
        public int scratchSize() {
            return CHUNK;
        }
    };

    static final RowKernel BF16 = new RowKernel() {
        @Override
        public void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff) {
            int i = 0;
            int bound = FLOATS.loopBound(cols);
            for (; i < bound; i += LANES) load(data, rowOffset + 2L * i).intoArray(out, outOff + i);
            for (; i < cols; i++) out[outOff + i] = Float.intBitsToFloat(data.get(SHORT, rowOffset + 2L * i) << 16);
        }

        @Override
        public float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch) {
            int i = 0;
            int bound = FLOATS.loopBound(cols);
            FloatVector acc = FloatVector.zero(FLOATS);
            for (; i < bound; i += LANES) {
                acc = load(data, rowOffset + 2L * i).fma(FloatVector.fromArray(FLOATS, x, xOff + i), acc);
            }
            float sum = Lanes.sum(acc);
            for (; i < cols; i++) sum += Float.intBitsToFloat(data.get(SHORT, rowOffset + 2L * i) << 16) * x[xOff + i];
            return sum;
        }

        /** A bf16 value is the upper 16 bits of an fp32: widen and shift into place. */
        private FloatVector load(MemorySegment data, long offset) {
            ShortVector halves = ShortVector.fromMemorySegment(SHORTS, data, offset, ByteOrder.LITTLE_ENDIAN);
            IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0);
            return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
    };
}
