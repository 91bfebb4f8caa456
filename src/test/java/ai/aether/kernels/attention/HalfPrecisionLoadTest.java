package ai.aether.kernels.attention;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernel widens FP16/BF16 codes to fp32 before multiplying. With one cached token the attention output is
 * exactly that token's value, so every finite 16-bit code (subnormals included) must come out as
 * {@link Float#float16ToFloat} (FP16) or the upper half of an fp32 (BF16) says.
 */
class HalfPrecisionLoadTest {

    @ParameterizedTest
    @EnumSource(value = KvDtype.class, names = {"FP16", "BF16"})
    void everyFiniteCodeIsWidenedExactly(KvDtype dtype) {
        int dim = 64, sequences = 65536 / dim;
        KvBlockPool pool = new KvBlockPool(dim, 16, dtype, sequences);
        DecodePlan plan = new DecodePlan(sequences, 1, 1, dim, false);
        float[] expected = new float[sequences * dim];  // [sequences][dim]
        float[] key = new float[dim], value = new float[dim];
        for (int b = 0; b < sequences; b++) {
            for (int d = 0; d < dim; d++) {
                short code = (short) (b * dim + d);
                float x = dtype == KvDtype.FP16 ? Float.float16ToFloat(code) : Float.intBitsToFloat(code << 16);
                value[d] = Float.isFinite(x) && !(dtype == KvDtype.FP16 && Math.abs(x) > 65504) ? x : 0f;
                expected[b * dim + d] = value[d];
            }
            int id = pool.allocate();
            pool.writeToken(id, 0, key, 0, value, 0);
            plan.setSequenceLength(b, 1);
            plan.addBlock(b, 0, id, 0);
        }
        AttentionBackend backend = AttentionBackend.cpu();
        backend.plan(plan, pool);
        float[] out = new float[sequences * dim];
        backend.decode(pool, plan, new float[sequences * dim], out);
        for (int i = 0; i < out.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]) == 0x80000000 ? 0f : expected[i], out[i] == 0f ? 0f : out[i],
                    "code index " + i);
        }
    }
}
