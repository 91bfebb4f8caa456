package ai.aether.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `aether bench` end to end on tiny shapes (a few seconds). */
class BenchCommandTest {

    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        picocli.CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static final String[] TINY = {"bench", "--heads", "4", "--kv-heads", "2", "--head-dim", "32", "--seq-len", "1024",
            "--block-size", "32", "--warmup", "0", "--reps", "2", "--no-progress"};

    private static String[] tiny(String... more) {
        String[] all = new String[TINY.length + more.length];
        System.arraycopy(TINY, 0, all, 0, TINY.length);
        System.arraycopy(more, 0, all, TINY.length, more.length);
        return all;
    }

    @Test
    void sweepWritesTableCsvAndCharts() throws Exception {
        Path csv = tmp.resolve("out.csv"), charts = tmp.resolve("img");
        Run r = run(tiny("--sparsity-sweep", "0.5", "0.8", "--all-variants", "--export-csv", csv.toString(), "--charts", charts.toString()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("S=1024, target sparsity 0.80"), r.out());
        for (String method : List.of("quantized-box+sum", "shrunk-box", "basic", "variance", "concentration", "causal", "certified",
                "quantized-box", "quantized-bound", "key-sketch", "shrunk-box+sum", "quest", "oracle", "sink+window", "random")) {
            assertTrue(r.out().contains("\n" + method + " "), "table lists " + method);
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals(1 + 2 * 15, lines.size(), "header + one row per (method, sparsity)");
        assertTrue(lines.getFirst().startsWith("source,seq_len,method,kind,target_sparsity,achieved_sparsity,cosine_mean"), lines.getFirst());
        String oracle80 = lines.stream().filter(l -> l.contains(",oracle,") && l.contains(",0.800000,")).findFirst().orElseThrow();
        assertTrue(oracle80.contains(",ORACLE,"), oracle80);
        for (String chart : List.of("quality-cosine-S1024.png", "quality-mass-recall-S1024.png", "speedup-S1024.png")) {
            byte[] png = Files.readAllBytes(charts.resolve(chart));
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', chart + " is a PNG");
        }
    }

    @Test
    void verifyFailsNamingTheMetricWhenQualityIsBelowTheSeedTable() {
        // 95% sparsity on a 32-block cache leaves almost nothing: far below the 90% row of the seed table
        Run r = run(tiny("--sparsity-sweep", "0.95", "--score", "basic", "--group-combine", "max", "--verify"));
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("verify: basic at S=1024") && r.err().contains("(seed table)"), r.err());
        assertTrue(r.err().contains("cosine") || r.err().contains("block recall") || r.err().contains("block precision"), r.err());
    }

    @Test
    void verifyPassesWhenEverythingIsKept() {
        Run r = run(tiny("--sparsity-sweep", "0", "--verify"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("verify: every AETHER row meets the seed table"), r.out());
    }

    /** INT8 storage: the kernels are held to float64 attention over the int8-stored keys and values (the kern.err column). */
    @Test
    void int8KvIsVerifiedAgainstItsStoredValues() {
        Run r = run(tiny("--sparsity-sweep", "0.8", "--dtype", "int8"));
        assertEquals(0, r.exit(), r.err());
        String row = r.out().lines().filter(l -> l.startsWith("quantized-box+sum ")).findFirst().orElseThrow();
        String[] columns = row.trim().split("\\s+");
        double kernelError = Double.parseDouble(columns[columns.length - 1]);
        assertTrue(kernelError < 1e-4, "kernel vs float64 on the stored values, relative L2: " + row);
    }

    @Test
    void badInputIsOneClearLine() {
        Run heads = run("bench", "--heads", "8", "--kv-heads", "3", "--seq-len", "256", "--no-progress");
        assertEquals(1, heads.exit());
        assertTrue(heads.err().contains("--kv-heads must divide --heads (8), got 3"), heads.err());
        Run dtype = run("bench", "--dtype", "int4");
        assertNotEquals(0, dtype.exit());
        assertTrue(dtype.err().contains("unknown dtype 'int4' (fp32, fp16, bf16, int8)"), dtype.err());
        Run sweep = run(tiny("--sparsity-sweep", "1.5"));
        assertEquals(1, sweep.exit());
        assertTrue(sweep.err().contains("--sparsity-sweep values must be in [0, 1), got 1.5"), sweep.err());
        Run missing = run("bench", "--kv-file", tmp.resolve("absent.npz").toString(), "--no-progress");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("absent.npz"), missing.err());
    }

    @Test
    void helpDocumentsEveryFlag() {
        Run r = run("bench", "--help");
        assertEquals(0, r.exit());
        for (String flag : List.of("--batch-size", "--seq-len", "--verify", "--all-variants", "--export-csv", "--sparsity-sweep", "--heads",
                "--kv-heads", "--head-dim", "--block-size", "--dtype", "--threads", "--selection", "--threshold", "--top-k",
                "--target-sparsity", "--warmup", "--reps", "--seed", "--kv-file", "--charts", "--shape")) {
            assertTrue(r.out().contains(flag), "help mentions " + flag);
        }
    }
}
