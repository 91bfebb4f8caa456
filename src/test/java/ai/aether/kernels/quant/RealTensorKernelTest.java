package ai.aether.kernels.quant;

import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufTensorInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels on real weights: every 2-D tensor of each shipped model (F32, F16, Q8_0, Q4_0,
 * Q4_1), matVec and a 5-token matMul against float64 sums over {@link ReferenceDequantizer}'s
 * decoding of the tensor's bytes, on up to 64 rows per tensor.
 */
class RealTensorKernelTest {

    @ParameterizedTest
    @ValueSource(strings = {"stories260K/stories260K.gguf", "stories260K/stories260K-Q8_0.gguf", "stories260K/stories260K-Q4_0.gguf",
            "smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"})
    void kernelsMatchReferenceOnEveryMatrix(String file) throws Exception {
        Path path = Path.of("..", "shared", "models").resolve(file);
        assumeTrue(Files.isRegularFile(path), () -> "skipped: " + path + " is absent");
        Random random = new Random(5);
        int checked = 0;
        try (GgufFile gguf = GgufFile.open(path)) {
            for (GgufTensorInfo info : gguf.tensors()) {
                if (info.dimensions() != 2) continue;
                WeightFormat format = WeightFormat.valueOf(info.type().name());
                int cols = (int) info.dimension(0), allRows = (int) info.dimension(1);
                int rows = Math.min(64, allRows);
                long rowBytes = format.rowBytes(cols);
                byte[] bytes = gguf.tensorData(info).asSlice(0, rowBytes * rows).toArray(ValueLayout.JAVA_BYTE);
                WeightMatrix w = new WeightMatrix(info.name(), format, gguf.tensorData(info), allRows, cols);
                int tokens = 5;
                float[] x = WeightMatrixTest.randomVector(tokens * cols, random);
                float[] y = new float[tokens * allRows];
                w.matMul(x, tokens, y);
                float[] yOne = new float[allRows];
                w.matVec(x, yOne);
                for (int r = 0; r < rows; r++) {
                    double[] row = ReferenceDequantizer.row(format, bytes, (int) (r * rowBytes), cols);
                    WeightMatrixTest.assertDotClose(row, x, 0, yOne[r], info.name() + " matVec row " + r);
                    for (int t = 0; t < tokens; t++) {
                        WeightMatrixTest.assertDotClose(row, x, t * cols, y[t * allRows + r], info.name() + " matMul row " + r + " token " + t);
                    }
                }
                checked++;
            }
        }
        assertTrue(checked >= 7, file + ": expected the 2-D weight tensors, checked " + checked);
    }
}
