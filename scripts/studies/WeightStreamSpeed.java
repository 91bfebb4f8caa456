package ai.aether.kernels.quant;

import ai.aether.kernels.Parallel;
import ai.aether.model.Model;
import ai.aether.model.ModelWeights;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Study behind {@code Q4RowGroups} (eighth session, 2026-12-07): one decode step's weight matvecs
 * alone (every layer's QKV, output, gate+up, down; the head between passes, so the layers stream
 * from DRAM as in the engine: 111 MB packed, 32 MB L3), 2 threads, median of 40 passes per round.
 * Variant "rows": {@code WeightMatrix} as built (before that change: rows dotted one at a time, a
 * lane sum each). Variant "lanes": this file's own lane kernel, 16 rows to a vector. With a 4th
 * argument (tokens) it times the prefill products of all layers instead.
 *
 * <pre>
 * javac --add-modules jdk.incubator.vector -cp target/aether-all.jar -d target/studies scripts/studies/WeightStreamSpeed.java
 * java --add-modules jdk.incubator.vector -cp target/studies:target/aether-all.jar ai.aether.kernels.quant.WeightStreamSpeed MODEL.gguf rows,lanes 6 [256]
 * </pre>
 */
public class WeightStreamSpeed {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Q4_1 rows, 16 per group: [group][block][16 chunks][16 rows] bytes, chunk k = col k | col k+16 << 4. */
    static final class LaneQ4 {
        final int rows, cols, blocks, groups;
        final byte[] nib; final float[] d, m;  // d,m: [group][block][16]
        LaneQ4(MemorySegment data, int rows, int cols) {
            this.rows = rows; this.cols = cols; blocks = cols / 32; groups = (rows + 15) / 16;
            nib = new byte[groups * blocks * 256]; d = new float[groups * blocks * 16]; m = new float[groups * blocks * 16];
            for (int r = 0; r < rows; r++) for (int b = 0; b < blocks; b++) {
                long at = ((long) r * blocks + b) * 20;
                int g = r / 16, lane = r % 16, gb = g * blocks + b;
                d[gb * 16 + lane] = Float.float16ToFloat(data.get(SHORT, at));
                m[gb * 16 + lane] = Float.float16ToFloat(data.get(SHORT, at + 2));
                for (int k = 0; k < 16; k++) nib[gb * 256 + k * 16 + lane] = data.get(ValueLayout.JAVA_BYTE, at + 4 + k);
            }
        }
        void range(float[] x, float[] xsum, float[] y, int g0, int g1) {
            for (int g = g0; g < g1; g++) {
                FloatVector acc = FloatVector.zero(F);
                for (int b = 0; b < blocks; b++) {
                    int gb = g * blocks + b, q = gb * 256, xb = b * 32;
                    FloatVector blk0 = FloatVector.zero(F), blk1 = blk0;
                    for (int k = 0; k < 16; k += 2) {
                        IntVector p0 = (IntVector) ByteVector.fromArray(B, nib, q + k * 16).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                        IntVector p1 = (IntVector) ByteVector.fromArray(B, nib, q + k * 16 + 16).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                        blk0 = ((FloatVector) p0.and(0x0F).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, x[xb + k]), blk0);
                        blk1 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, x[xb + k + 16]), blk1);
                        blk0 = ((FloatVector) p1.and(0x0F).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, x[xb + k + 1]), blk0);
                        blk1 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, x[xb + k + 17]), blk1);
                    }
                    acc = blk0.add(blk1).fma(FloatVector.fromArray(F, d, gb * 16), acc);
                    acc = FloatVector.fromArray(F, m, gb * 16).fma(FloatVector.broadcast(F, xsum[b]), acc);
                }
                if (g * 16 + 16 <= rows) acc.intoArray(y, g * 16);
                else { float[] t = new float[16]; acc.intoArray(t, 0); System.arraycopy(t, 0, y, g * 16, rows - g * 16); }
            }
        }
        /** tile[c*16 + lane] = row (g*16+lane) at column c, dequantised. */
        void dequantizeGroup(int g, float[] tile) {
            for (int b = 0; b < blocks; b++) {
                int gb = g * blocks + b, q = gb * 256;
                FloatVector dv = FloatVector.fromArray(F, d, gb * 16), mv = FloatVector.fromArray(F, m, gb * 16);
                for (int k = 0; k < 16; k++) {
                    IntVector p = (IntVector) ByteVector.fromArray(B, nib, q + k * 16).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    ((FloatVector) p.and(0x0F).convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(tile, (b * 32 + k) * 16);
                    ((FloatVector) p.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(tile, (b * 32 + k + 16) * 16);
                }
            }
        }
        /** y[t][rows] for tokens [0,tokens): groups g0..g1, x [tokens][cols]. */
        void matMul(float[] x, int tokens, float[] y, int g0, int g1) {
            float[] t0 = new float[cols * 16], t1 = new float[cols * 16];
            for (int g = g0; g < g1; g += 2) {
                boolean two = g + 1 < g1;
                dequantizeGroup(g, t0); if (two) dequantizeGroup(g + 1, t1);
                int t = 0;
                for (; t + 4 <= tokens; t += 4) {
                    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                    int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
                    for (int c = 0; c < cols; c++) {
                        FloatVector w0 = FloatVector.fromArray(F, t0, c * 16), w1 = FloatVector.fromArray(F, t1, c * 16);
                        FloatVector v0 = FloatVector.broadcast(F, x[x0 + c]), v1 = FloatVector.broadcast(F, x[x1 + c]);
                        FloatVector v2 = FloatVector.broadcast(F, x[x2 + c]), v3 = FloatVector.broadcast(F, x[x3 + c]);
                        a0 = w0.fma(v0, a0); a1 = w0.fma(v1, a1); a2 = w0.fma(v2, a2); a3 = w0.fma(v3, a3);
                        b0 = w1.fma(v0, b0); b1 = w1.fma(v1, b1); b2 = w1.fma(v2, b2); b3 = w1.fma(v3, b3);
                    }
                    a0.intoArray(y, t * rows + g * 16); a1.intoArray(y, (t + 1) * rows + g * 16);
                    a2.intoArray(y, (t + 2) * rows + g * 16); a3.intoArray(y, (t + 3) * rows + g * 16);
                    if (two) {
                        b0.intoArray(y, t * rows + g * 16 + 16); b1.intoArray(y, (t + 1) * rows + g * 16 + 16);
                        b2.intoArray(y, (t + 2) * rows + g * 16 + 16); b3.intoArray(y, (t + 3) * rows + g * 16 + 16);
                    }
                }
            }
        }
        static float[] blockSums(float[] x, int cols) {
            float[] s = new float[cols / 32];
            for (int b = 0; b < s.length; b++) { float t = 0; for (int j = 0; j < 32; j++) t += x[b * 32 + j]; s[b] = t; }
            return s;
        }
    }

    static MemorySegment data(WeightMatrix w) throws Exception {
        var f = WeightMatrix.class.getDeclaredField("data"); f.setAccessible(true); return (MemorySegment) f.get(w);
    }

    public static void main(String[] a) throws Exception {
        Parallel.setThreads(2);
        try (Model model = Model.load(Path.of(a[0]))) {
            ModelWeights w = model.weights();
            int L = w.layers().length, dim = w.layers()[0].query().cols(), hidden = w.layers()[0].gate().rows();
            float[] x = new float[dim], xh = new float[hidden];
            java.util.Random rnd = new java.util.Random(1);
            for (int i = 0; i < dim; i++) x[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < hidden; i++) xh[i] = (float) rnd.nextGaussian();
            // lane-packed copies
            LaneQ4[][] lanes = new LaneQ4[L][];
            for (int l = 0; l < L; l++) {
                ModelWeights.Layer ly = w.layers()[l];
                WeightMatrix[] ms = {ly.query(), ly.key(), ly.value(), ly.attnOutput(), ly.gate(), ly.up(), ly.down()};
                lanes[l] = new LaneQ4[ms.length];
                for (int i = 0; i < ms.length; i++) lanes[l][i] = new LaneQ4(data(ms[i]), ms[i].rows(), ms[i].cols());
            }
            // check the lane kernel against the current one
            {
                WeightMatrix g = w.layers()[3].gate(); float[] y1 = new float[g.rows()], y2 = new float[g.rows()];
                g.matVec(x, y1);
                lanes[3][4].range(x, LaneQ4.blockSums(x, dim), y2, 0, lanes[3][4].groups);
                double err = 0, mag = 0; for (int i = 0; i < y1.length; i++) { err = Math.max(err, Math.abs(y1[i] - y2[i])); mag = Math.max(mag, Math.abs(y1[i])); }
                System.out.printf("lane kernel max err %.3g (max |y| %.3g)%n", err, mag);
            }
            if (a.length > 3) {  // prefill mode: tokens
                int tokens = Integer.parseInt(a[3]);
                float[] X = new float[tokens * hidden]; for (int i = 0; i < X.length; i++) X[i] = (float) rnd.nextGaussian();
                float[] Y1 = new float[tokens * hidden], Y2 = new float[tokens * hidden];
                WeightMatrix g = w.layers()[3].gate();
                g.matMul(X, tokens, Y1);
                LaneQ4 lg = lanes[3][4];
                Parallel.forRange(lg.groups / 2, (f, to) -> lg.matMul(X, tokens, Y2, 2 * f, 2 * to));
                double err = 0; for (int i = 0; i < tokens * g.rows(); i++) err = Math.max(err, Math.abs(Y1[i] - Y2[i]));
                System.out.printf("prefill lane kernel max err %.3g%n", err);
                for (int r = -1; r < 5; r++) {
                    for (String v : new String[] {"rows", "lanes"}) {
                        long t0 = System.nanoTime();
                        for (int l = 0; l < L; l++) {
                            ModelWeights.Layer ly = w.layers()[l];
                            WeightMatrix[] ms = {ly.query(), ly.key(), ly.value(), ly.attnOutput(), ly.gate(), ly.up(), ly.down()};
                            for (int i = 0; i < 7; i++) {
                                if (v.equals("rows")) ms[i].matMul(X, tokens, Y1);
                                else { LaneQ4 lq = lanes[l][i]; Parallel.forRange((lq.groups + 1) / 2, (f, to) -> lq.matMul(X, tokens, Y2, 2 * f, Math.min(2 * to, lq.groups))); }
                            }
                        }
                        if (r >= 0) System.out.printf("prefill %s %d tokens: %.1f ms%n", v, tokens, (System.nanoTime() - t0) / 1e6);
                    }
                }
                return;
            }
            String[] variants = a.length > 1 ? a[1].split(",") : new String[] {"rows", "lanes"};
            int passes = 40, rounds = a.length > 2 ? Integer.parseInt(a[2]) : 8;
            double[][] med = new double[variants.length][rounds];
            float[][] ys = new float[7][hidden * 2];
            float[] logits = new float[w.output().rows()];
            for (int r = -2; r < rounds; r++) {
                for (int v = 0; v < variants.length; v++) {
                    long[] t = new long[passes], head = new long[passes];
                    for (int p = 0; p < passes; p++) {
                        long t0 = System.nanoTime();
                        for (int l = 0; l < L; l++) {
                            ModelWeights.Layer ly = w.layers()[l];
                            if (variants[v].equals("rows")) {
                                WeightMatrix.matVecAll(x, new WeightMatrix[] {ly.query(), ly.key(), ly.value()}, new float[][] {ys[0], ys[1], ys[2]});
                                ly.attnOutput().matVec(x, ys[3]);
                                WeightMatrix.matVecAll(x, new WeightMatrix[] {ly.gate(), ly.up()}, new float[][] {ys[4], ys[5]});
                                ly.down().matVec(xh, ys[6]);
                            } else {
                                LaneQ4[] lq = lanes[l];
                                float[] xs = LaneQ4.blockSums(x, dim), xhs = LaneQ4.blockSums(xh, hidden);
                                int gq = lq[0].groups, gk = lq[1].groups, gv = lq[2].groups;
                                Parallel.forRange(gq + gk + gv, (f, to) -> {
                                    lq[0].range(x, xs, ys[0], Math.min(f, gq), Math.min(to, gq));
                                    lq[1].range(x, xs, ys[1], Math.clamp(f - gq, 0, gk), Math.clamp(to - gq, 0, gk));
                                    lq[2].range(x, xs, ys[2], Math.clamp(f - gq - gk, 0, gv), Math.clamp(to - gq - gk, 0, gv));
                                });
                                Parallel.forRange(lq[3].groups, (f, to) -> lq[3].range(x, xs, ys[3], f, to));
                                int gg = lq[4].groups;
                                Parallel.forRange(2 * gg, (f, to) -> {
                                    lq[4].range(x, xs, ys[4], Math.min(f, gg), Math.min(to, gg));
                                    lq[5].range(x, xs, ys[5], Math.clamp(f - gg, 0, gg), Math.clamp(to - gg, 0, gg));
                                });
                                Parallel.forRange(lq[6].groups, (f, to) -> lq[6].range(xh, xhs, ys[6], f, to));
                            }
                        }
                        long t1 = System.nanoTime();
                        w.output().matVec(x, logits);
                        t[p] = t1 - t0;
                        head[p] = System.nanoTime() - t1;
                    }
                    Arrays.sort(t);
                    Arrays.sort(head);
                    if (r >= 0) med[v][r] = t[passes / 2] / 1e6;
                    if (r >= 0) System.out.printf("round %d %s layers %.3f ms, head %.3f ms%n", r, variants[v], t[passes / 2] / 1e6, head[passes / 2] / 1e6);
                }
            }
            for (int v = 0; v < variants.length; v++) {
                double[] s = med[v].clone(); Arrays.sort(s);
                System.out.printf("%s: median over rounds %.3f ms%n", variants[v], s[rounds / 2]);
            }
        }
    }
}
