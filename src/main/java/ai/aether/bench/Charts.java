package ai.aether.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * PNG charts of a sweep, one set per cache length: cosine and attention-mass recall vs sparsity,
 * and measured vs theoretical speedup vs sparsity; one line per method.
 */
public final class Charts {

    private static final int WIDTH = 720, HEIGHT = 440;

    private Charts() {}

    /** Writes the charts into {@code dir}; returns the files written. */
    public static List<Path> write(List<ResultRow> rows, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        Map<Integer, List<ResultRow>> bySeqLen = new LinkedHashMap<>();
        for (ResultRow r : rows) bySeqLen.computeIfAbsent(r.seqLen(), k -> new ArrayList<>()).add(r);
        List<Path> written = new ArrayList<>();
        for (Map.Entry<Integer, List<ResultRow>> e : bySeqLen.entrySet()) {
            int s = e.getKey();
            List<ResultRow> r = e.getValue();
            written.add(save(chart("Output cosine similarity vs sparsity, S=" + s, "cosine (mean over query heads)", r,
                    ResultRow::cosineMean, false), dir.resolve("quality-cosine-S" + s + ".png")));
            written.add(save(chart("Attention-mass recall vs sparsity, S=" + s, "mass recall (mean over query heads)", r,
                    ResultRow::massRecallMean, false), dir.resolve("quality-mass-recall-S" + s + ".png")));
            XYChart speed = chart("Measured vs theoretical speedup, S=" + s, "dense time / sparse time", r,
                    ResultRow::measuredSpeedup, true);
            written.add(save(speed, dir.resolve("speedup-S" + s + ".png")));
        }
        return written;
    }

    private static XYChart chart(String title, String yTitle, List<ResultRow> rows, ToDoubleFunction<ResultRow> metric, boolean theoretical) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("sparsity (share of blocks skipped)")
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        chart.getStyler().setMarkerSize(6);
        Map<String, List<ResultRow>> byMethod = new LinkedHashMap<>();
        for (ResultRow r : rows) byMethod.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r);
        for (Map.Entry<String, List<ResultRow>> m : byMethod.entrySet()) {
            List<double[]> points = new ArrayList<>();
            for (ResultRow r : m.getValue()) {
                double y = metric.applyAsDouble(r);
                if (Double.isFinite(y)) points.add(new double[]{r.achievedSparsity(), y});
            }
            if (points.isEmpty()) continue;
            points.sort(java.util.Comparator.comparingDouble(p -> p[0]));
            XYSeries series = chart.addSeries(m.getKey(), points.stream().mapToDouble(p -> p[0]).toArray(),
                    points.stream().mapToDouble(p -> p[1]).toArray());
            styleBaseline(series, m.getValue().getFirst().kind());
        }
        if (theoretical) {
            double[] x = rows.stream().mapToDouble(ResultRow::achievedSparsity).filter(Double::isFinite).sorted().distinct().toArray();
            if (x.length > 0) {
                double[] y = java.util.Arrays.stream(x).map(v -> 1 / (1 - v)).toArray();
                XYSeries series = chart.addSeries("theoretical 1/(1-s)", x, y);
                series.setMarker(SeriesMarkers.NONE);
                series.setLineStyle(new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER,
                        10f, new float[]{6f, 4f}, 0f));
                series.setLineColor(java.awt.Color.DARK_GRAY);
            }
        }
        return chart;
    }

    /** Baselines get fixed, distinct styles so the AETHER scores keep the palette. */
    private static void styleBaseline(XYSeries series, String kind) {
        java.awt.Color color = switch (kind) {
            case "QUEST" -> new java.awt.Color(200, 0, 0);
            case "ORACLE" -> java.awt.Color.BLACK;
            case "SINK_WINDOW" -> new java.awt.Color(120, 120, 120);
            case "RANDOM" -> new java.awt.Color(180, 180, 180);
            default -> null;
        };
        if (color == null) return;
        series.setLineColor(color);
        series.setMarkerColor(color);
        series.setMarker(kind.equals("QUEST") ? SeriesMarkers.SQUARE : SeriesMarkers.DIAMOND);
        series.setLineStyle(new java.awt.BasicStroke(kind.equals("QUEST") ? 2.5f : 1.5f, java.awt.BasicStroke.CAP_BUTT,
                java.awt.BasicStroke.JOIN_MITER, 10f, kind.equals("QUEST") ? null : new float[]{3f, 3f}, 0f));
    }

    private static Path save(XYChart chart, Path file) throws IOException {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
