package ai.aether.kernels.quant;

import java.lang.foreign.MemorySegment;

/**
 * Decodes and multiplies one row of a weight matrix stored in one {@link WeightFormat}.
 * Rows start at {@code rowOffset} bytes into {@code data}; callers have checked the bounds.
 */
interface RowKernel {

    /** out[outOff .. outOff+cols) = the row's values. */
    void dequantize(MemorySegment data, long rowOffset, int cols, float[] out, int outOff);

    /**
     * The dot product of the row with x[xOff .. xOff+cols), computed on the packed blocks.
     *
     * @param scratch at least {@link #scratchSize()} floats the kernel may overwrite
     */
    float dot(MemorySegment data, long rowOffset, int cols, float[] x, int xOff, float[] scratch);

    /** Floats of scratch {@link #dot} needs (0 when it decodes in registers). */
    default int scratchSize() {
        return 0;
    }
}
