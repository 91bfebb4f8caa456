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
 * A Q8_0 matrix repacked once at load for the decode matvec, as {@link Q4RowGroups} is for Q4 (rows kept whole: the head's 49,152 rows are read once per token and the row kernel already streams them near memory speed):
 * the int8 values of every block side by side ({@code [rows][cols]}) and the block scales as fp32
 * ({@code [rows][blocks]}). The product is the in-place kernel's arithmetic (x = d*q; per block
 * the int8 lanes widen to floats and fma against the activations, then one fma by d), without an
 * fp16 conversion and an unaligned 34-byte block walk per 32 values. Worth it for the output head
 * of tied-embedding models (SmolLM2's [49152][576] Q8_0 head was 23% of a decode step).
 */
final class Q8PackedRows implements PackedRows {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = 32, BLOCK_BYTES = 34;

    private final int cols;
    private final int blocksPerRow;
    private final byte[] quants;   // [rows][cols]
    private final float[] scales;  // [rows][blocksPerRow] d

    private Q8PackedRows(int cols, byte[] quants, float[] scales) {
        this.cols = cols;
        this.blocksPerRow = cols / BLOCK;
        this.quants = quants;
        this.scales = scales;
    }

    /** Repacks {@code rows} rows of {@code cols} Q8_0 values; null when they would not fit one Java array. */
    static Q8PackedRows pack(MemorySegment data, int rows, int cols) {
        long blocks = (long) rows * (cols / BLOCK);
        if (blocks * BLOCK > Integer.MAX_VALUE - 16) return null;
        byte[] quants = new byte[(int) (blocks * BLOCK)];
        float[] scales = new float[(int) blocks];
        for (int b = 0; b < blocks; b++) {
            long at = (long) b * BLOCK_BYTES;
            scales[b] = Float.float16ToFloat(data.get(SHORT, at));
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at + 2, quants, b * BLOCK, BLOCK);
        }
        return new Q8PackedRows(cols, quants, scales);
    }

    @Override
    public float dot(int row, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(FLOATS);
        int first = row * blocksPerRow, q = row * cols;
        for (int b = 0; b < blocksPerRow; b++) {
            int xb = xOff + b * BLOCK, qb = q + b * BLOCK;
            FloatVector blockSum = FloatVector.zero(FLOATS);
            for (int j = 0; j < BLOCK; j += LANES) {
                FloatVector w = (FloatVector) ByteVector.fromArray(BYTES, quants, qb + j).convertShape(VectorOperators.B2F, FLOATS, 0);
                blockSum = w.fma(FloatVector.fromArray(FLOATS, x, xb + j), blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(FLOATS, scales[first + b]), acc);
        }
        return Lanes.sum(acc);
    }

    @Override
    public void dequantize(int row, float[] out, int outOff) {
        int first = row * blocksPerRow, q = row * cols;
        for (int b = 0; b < blocksPerRow; b++) {
            float d = scales[first + b];
            for (int j = 0; j < BLOCK; j += LANES) {
                ((FloatVector) ByteVector.fromArray(BYTES, quants, q + b * BLOCK + j).convertShape(VectorOperators.B2F, FLOATS, 0))
                        .mul(d).intoArray(out, outOff + b * BLOCK + j);
            }
        }
    }
}
