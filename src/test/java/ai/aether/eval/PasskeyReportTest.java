package ai.aether.eval;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pass-key table's comparison with dense, counted by hand on a small grid. */
class PasskeyReportTest {

    private static PasskeyEval.Result result(String setting, int length, double depth, int trial, boolean correct) {
        return new PasskeyEval.Result(setting, length, depth, trial, "12345", correct ? "12345" : "1234.", correct, setting.equals("dense") ? 0 : 0.9);
    }

    @Test
    void countsPromptsAndCellsWhereASettingAgreesWithDense() {
        int[] lengths = {1024, 2048};
        double[] depths = {0, 0.5};
        List<PasskeyEval.Result> results = new ArrayList<>();
        // dense: right everywhere but 2048 / 0.5 trial 1.
        for (int length : lengths) {
            for (double depth : depths) {
                for (int trial = 0; trial < 2; trial++) results.add(result("dense", length, depth, trial, !(length == 2048 && depth == 0.5 && trial == 1)));
            }
        }
        // sparse: wrong at 1024 / 0 trial 0 (dense right) and at 2048 / 0.5 trial 1 (dense wrong too).
        for (int length : lengths) {
            for (double depth : depths) {
                for (int trial = 0; trial < 2; trial++) {
                    boolean wrong = (length == 1024 && depth == 0 && trial == 0) || (length == 2048 && depth == 0.5 && trial == 1);
                    results.add(result("sparse", length, depth, trial, !wrong));
                }
            }
        }
        String table = EvalReports.passkeyTable(results, lengths, depths);
        assertTrue(table.contains("sparse: accuracy 75.0% (6/8), mean decode sparsity 90.0%; same verdict as dense on 7 of 8 prompts, 3 of 4 cells equal"), table);
        assertTrue(table.contains("dense: accuracy 87.5% (7/8), mean decode sparsity 0.0%\n"), table);
        assertEquals("", EvalReports.versusDense(results.subList(8, 16), "sparse", lengths, depths), "no dense run, no comparison");
    }
}
