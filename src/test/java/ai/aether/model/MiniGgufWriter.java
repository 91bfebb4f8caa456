package ai.aether.model;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes small GGUF v3 files for model tests, from the format description: string/u32/f32 metadata and F32 tensors. */
final class MiniGgufWriter {
    private record Entry(String key, int type, Object value) {}
    private record Tensor(String name, long[] shape, float[] data) {}

    private final List<Entry> entries = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();

    MiniGgufWriter string(String key, String value) { entries.add(new Entry(key, 8, value)); return this; }
    MiniGgufWriter u32(String key, long value) { entries.add(new Entry(key, 4, value)); return this; }
    MiniGgufWriter f32(String key, double value) { entries.add(new Entry(key, 6, value)); return this; }

    /** An F32 tensor; shape in ggml order (row length first). */
    MiniGgufWriter tensor(String name, float[] data, long... shape) { tensors.add(new Tensor(name, shape, data)); return this; }

    byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        writeInt(out, 3);
        writeLong(out, tensors.size());
        writeLong(out, entries.size());
        for (Entry e : entries) {
            writeString(out, e.key);
            writeInt(out, e.type);
            switch (e.type) {
                case 8 -> writeString(out, (String) e.value);
                case 4 -> writeInt(out, (int) (long) (Long) e.value);
                case 6 -> writeInt(out, Float.floatToIntBits((float) (double) (Double) e.value));
                default -> throw new IllegalStateException();
            }
        }
        long offset = 0;
        for (Tensor t : tensors) {
            writeString(out, t.name);
            writeInt(out, t.shape.length);
            for (long d : t.shape) writeLong(out, d);
            writeInt(out, 0); // F32
            writeLong(out, offset);
            offset += align(4L * t.data.length);
        }
        pad(out);
        for (Tensor t : tensors) {
            ByteBuffer buffer = ByteBuffer.allocate(4 * t.data.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : t.data) buffer.putFloat(v);
            out.writeBytes(buffer.array());
            pad(out);
        }
        return out.toByteArray();
    }

    private static long align(long n) { return (n + 31) / 32 * 32; }

    private static void pad(ByteArrayOutputStream out) { while (out.size() % 32 != 0) out.write(0); }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void writeLong(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeLong(out, b.length);
        out.writeBytes(b);
    }
}
