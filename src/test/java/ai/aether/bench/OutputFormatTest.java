package ai.aether.bench;

import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class OutputFormatTest {

    private static ResultRow row(String method, String kind, double mass, double equalBytes) {
        double n = Double.NaN;
        return new ResultRow("src, with comma", 4096, method, kind, 0.8, 0.8, 0.99, 0.9, 0.1, 0.2, mass, mass - 0.1, -0.3, 0.9, 0.9,
                5, 10, 2.5, 2, 3, 0.25, 4, 0.1, 100, 400, 8, 0.27, equalBytes, n);
    }

    @Test
    void csvHasSnakeCaseHeaderEmptyNaNAndQuotedText() throws Exception {
        StringWriter w = new StringWriter();
        CsvExport.write(List.of(row("shrunk-box", "AETHER", 0.95, 0.95)), w);
        String[] lines = w.toString().split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[0].startsWith("source,seq_len,method,kind,target_sparsity,achieved_sparsity,cosine_mean,cosine_min,normalized_l2_mean,kl_mean,"
                + "mass_recall_mean,mass_recall_p5"), lines[0]);
        assertTrue(lines[0].endsWith("bytes_read_share,equal_bytes_mass_recall,kernel_error"), lines[0]);
        assertTrue(lines[1].startsWith("\"src, with comma\",4096,shrunk-box,AETHER,0.800000,0.800000,0.990000,"), lines[1]);
        assertTrue(lines[1].endsWith(",0.950000,"), "NaN kernel error is an empty cell: " + lines[1]);
    }

    @Test
    void versusQuestReportsTheDifferenceAndWhoLeads() {
        String s = TableFormatter.versusQuest(List.of(row("shrunk-box", "AETHER", 0.95, 0.94), row("quest", "QUEST", 0.93, 0.945)));
        assertTrue(s.contains("shrunk-box vs quest, S=4096 sparsity 0.80: mass recall +0.0200 (p5 +0.020) at equal blocks, -0.0050 at equal bytes -> Quest ahead"), s);
    }
}
