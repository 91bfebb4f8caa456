package ai.aether.kernels.quant;

/** A matrix repacked at load for the decode matvec, row by row (int8 side by side, scales as fp32). */
interface PackedRows {
    /** The dot product of row {@code row} with x[xOff .. xOff+cols). */
    float dot(int row, float[] x, int xOff);

    /** out[outOff .. outOff+cols) = row {@code row} as floats. */
    void dequantize(int row, float[] out, int outOff);
}
