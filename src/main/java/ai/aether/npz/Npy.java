package ai.aether.npz;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The .npy format (NumPy's NEP 1): magic {@code \x93NUMPY}, version, header length, a Python
 * dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }} padded with
 * spaces and a newline to a multiple of 64 bytes, then the raw C-order elements.
 *
 * <p>Reads versions 1.0, 2.0 and 3.0; writes 1.0 (2.0 when the header would not fit), like numpy.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int MAX_HEADER_BYTES = 1 << 20;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /**
     * Reads one array from {@code in}.
     *
     * @param source names the file (and entry) in error messages, e.g. {@code "kv.npz:keys.npy"}
     */
    public static NpyArray read(InputStream in, String source) throws IOException {
        byte[] prefix = readFully(in, 8, source, "the magic and version");
        if (!Arrays.equals(Arrays.copyOf(prefix, 6), MAGIC)) {
            throw new NpyFormatException(source + ": not a .npy array (magic bytes are not \\x93NUMPY)");
        }
        int major = prefix[6] & 0xff;
        long headerLength;
        if (major == 1) {
            byte[] len = readFully(in, 2, source, "the header length");
            headerLength = (len[0] & 0xff) | (len[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] len = readFully(in, 4, source, "the header length");
            headerLength = (len[0] & 0xffL) | (len[1] & 0xffL) << 8 | (len[2] & 0xffL) << 16 | (len[3] & 0xffL) << 24;
        } else {
            throw new NpyFormatException(source + ": .npy version " + major + "." + (prefix[7] & 0xff) + " is not supported (1.0, 2.0, 3.0)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new NpyFormatException(source + ": header length " + headerLength + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        String header = new String(readFully(in, (int) headerLength, source, "the header"),
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        NpyDtype dtype = parseDtype(header, source);
        int[] shape = parseShape(header, source);
        long elements;
        try {
            elements = NpyArray.elementCount(shape);
        } catch (IllegalArgumentException e) {
            throw new NpyFormatException(source + ": " + e.getMessage());
        }
        long bytes = elements * dtype.bytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new NpyFormatException(source + ": array of shape " + Arrays.toString(shape) + " is " + bytes + " bytes, above the 2^31-1 limit");
        }
        byte[] data = readFully(in, (int) bytes, source, "the data of shape " + Arrays.toString(shape));
        return new NpyArray(dtype, shape, data);
    }

    private static NpyDtype parseDtype(String header, String source) throws NpyFormatException {
        Matcher descr = DESCR.matcher(header);
        if (!descr.find()) throw new NpyFormatException(source + ": header has no 'descr' field: " + header.strip());
        Matcher fortran = FORTRAN.matcher(header);
        if (!fortran.find()) throw new NpyFormatException(source + ": header has no 'fortran_order' field: " + header.strip());
        if (fortran.group(1).equals("True")) {
            throw new NpyFormatException(source + ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
        }
        try {
            return NpyDtype.fromDescr(descr.group(1));
        } catch (IllegalArgumentException e) {
            throw new NpyFormatException(source + ": " + e.getMessage());
        }
    }

    private static int[] parseShape(String header, String source) throws NpyFormatException {
        Matcher shape = SHAPE.matcher(header);
        if (!shape.find()) throw new NpyFormatException(source + ": header has no 'shape' tuple: " + header.strip());
        List<Integer> dims = new ArrayList<>();
        for (String part : shape.group(1).split(",")) {
            String p = part.strip();
            if (p.endsWith("L")) p = p.substring(0, p.length() - 1);  // Python 2 longs
            if (p.isEmpty()) continue;
            try {
                long d = Long.parseLong(p);
                if (d < 0 || d > Integer.MAX_VALUE) throw new NumberFormatException();
                dims.add((int) d);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(source + ": shape dimension '" + part.strip() + "' is not an integer in [0, 2^31-1]");
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    private static byte[] readFully(InputStream in, int n, String source, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new NpyFormatException(source + ": truncated while reading " + what + " (needed " + n + " bytes, found " + b.length + ")");
        }
        return b;
    }

    /** Writes {@code array} in .npy format (version 1.0, or 2.0 for headers over 65535 bytes). */
    public static void write(NpyArray array, OutputStream out) throws IOException {
        out.write(header(array));
        out.write(array.rawData());
    }

    /** Total bytes {@link #write} produces for {@code array}. */
    static long encodedLength(NpyArray array) {
        return header(array).length + (long) array.rawData().length;
    }

    private static byte[] header(NpyArray array) {
        StringBuilder shape = new StringBuilder("(");
        int[] dims = array.shape();
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) shape.append(", ");
            shape.append(dims[i]);
        }
        if (dims.length == 1) shape.append(',');
        shape.append(')');
        String dict = "{'descr': '" + array.dtype().descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int version = dict.length() + 1 + 10 > 65535 ? 2 : 1;
        int prefix = version == 1 ? 10 : 12;
        int padded = (prefix + dict.length() + 1 + 63) / 64 * 64;
        int headerLength = padded - prefix;
        byte[] out = new byte[padded];
        System.arraycopy(MAGIC, 0, out, 0, 6);
        out[6] = (byte) version;
        out[7] = 0;
        out[8] = (byte) headerLength;
        out[9] = (byte) (headerLength >>> 8);
        if (version == 2) {
            out[10] = (byte) (headerLength >>> 16);
            out[11] = (byte) (headerLength >>> 24);
        }
        byte[] text = dict.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(text, 0, out, prefix, text.length);
        Arrays.fill(out, prefix + text.length, padded - 1, (byte) ' ');
        out[padded - 1] = '\n';
        return out;
    }
}
