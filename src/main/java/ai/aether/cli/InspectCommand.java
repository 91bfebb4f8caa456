package ai.aether.cli;

import ai.aether.gguf.GgmlType;
import ai.aether.gguf.GgufArray;
import ai.aether.gguf.GgufFile;
import ai.aether.gguf.GgufTensorInfo;
import ai.aether.gguf.GgufValueType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code aether inspect FILE [--json]}: the GGUF header, every metadata key with its type and
 * value (arrays summarised by length, first items and a hash of all items), the tensor table,
 * totals per tensor type, and whether Aether can run the file. Text and JSON show the same report.
 * <p>
 * {@code items_sha256} of an array is SHA-256 over its items encoded one after another: integers
 * as 8-byte little-endian int64, floats as 8-byte little-endian binary64, bools as one byte,
 * strings as an 8-byte little-endian UTF-8 length then the bytes, nested arrays as a 4-byte
 * element type id, an 8-byte count and their items.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe a GGUF file: header, metadata, tensor table, and whether Aether can run it.")
public final class InspectCommand implements Callable<Integer> {

    /** Architectures the model runtime implements (ARCHITECTURE.md, issue 3). */
    static final Set<String> RUNNABLE_ARCHITECTURES = Set.of("llama", "qwen2");
    /** Tensor types the runtime's kernels compute with (the list issue 3 requires). */
    static final Set<GgmlType> RUNNABLE_TENSOR_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    /** Report name and metadata key suffix (after "ARCH") of the sizes shown in the verdict. */
    private static final List<Map.Entry<String, String>> HYPERPARAMETERS = List.of(
            Map.entry("layers", ".block_count"), Map.entry("embedding", ".embedding_length"),
            Map.entry("feed_forward", ".feed_forward_length"), Map.entry("heads", ".attention.head_count"),
            Map.entry("kv_heads", ".attention.head_count_kv"), Map.entry("context", ".context_length"));
    /** Array items shown in full; longer arrays show this many first items. */
    static final int SHOWN_ITEMS = 8;
    private static final int SHOWN_STRING_CHARS = 100;

    @Parameters(paramLabel = "FILE", description = "GGUF file to describe")
    Path file;

    @Option(names = "--json", description = "print the report as JSON")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(file)) throw new IllegalArgumentException("no such file: " + file);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("not a regular file: " + file);
        ObjectNode report;
        try (GgufFile gguf = GgufFile.open(file)) {
            report = report(gguf);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        } else {
            printText(report, out);
        }
        out.flush();
        return 0;
    }

    // ---------------------------------------------------------------- the report

    /** The whole report as a JSON tree (what {@code --json} prints). */
    static ObjectNode report(GgufFile gguf) throws Exception {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        ObjectNode report = nodes.objectNode();
        report.put("file", gguf.path().toString());
        report.put("file_size", gguf.fileSize());
        report.put("version", gguf.version());
        report.put("alignment", gguf.alignment());
        report.put("data_offset", gguf.dataOffset());

        ArrayNode metadata = report.putArray("metadata");
        for (Map.Entry<String, Object> entry : gguf.metadata().entrySet()) {
            ObjectNode node = metadata.addObject();
            node.put("key", entry.getKey());
            node.put("type", gguf.findValueType(entry.getKey()).orElseThrow().name());
            putValue(node, entry.getValue());
        }

        ArrayNode tensors = report.putArray("tensors");
        Map<GgmlType, long[]> totals = new TreeMap<>(); // type -> {count, elements, bytes}
        long elements = 0;
        long bytes = 0;
        for (GgufTensorInfo info : gguf.tensors()) {
            ObjectNode node = tensors.addObject();
            node.put("name", info.name());
            node.put("type", info.type().name());
            ArrayNode shape = node.putArray("shape");
            for (long dimension : info.shape()) shape.add(dimension);
            node.put("elements", info.elementCount());
            node.put("bytes", info.byteSize());
            node.put("offset", info.offset());
            long[] total = totals.computeIfAbsent(info.type(), t -> new long[3]);
            total[0]++;
            total[1] += info.elementCount();
            total[2] += info.byteSize();
            elements += info.elementCount();
            bytes += info.byteSize();
        }
        ObjectNode byType = report.putObject("tensor_types");
        totals.forEach((type, total) -> byType.putObject(type.name())
                .put("tensors", total[0]).put("elements", total[1]).put("bytes", total[2]));
        report.put("tensor_count", gguf.tensors().size());
        report.put("parameters", elements);
        report.put("tensor_bytes", bytes);
        report.set("aether", verdict(gguf, totals.keySet()));
        return report;
    }

    private static void putValue(ObjectNode node, Object value) throws NoSuchAlgorithmException {
        switch (value) {
            case Long integer -> node.put("value", integer);
            case Double real -> node.put("value", real);
            case Boolean bool -> node.put("value", bool);
            case String string -> node.put("value", string);
            case GgufArray array -> {
                node.put("element_type", array.elementType().name());
                node.put("length", array.size());
                ArrayNode items = node.putArray("items");
                for (int i = 0; i < Math.min(array.size(), SHOWN_ITEMS); i++) items.add(itemNode(array.get(i)));
                node.put("items_sha256", HexFormat.of().formatHex(itemsSha256(array)));
            }
            default -> throw new IllegalStateException("unexpected metadata value " + value.getClass());
        }
    }

    private static JsonNode itemNode(Object item) throws NoSuchAlgorithmException {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (item) {
            case Long integer -> nodes.numberNode(integer);
            case Double real -> nodes.numberNode(real);
            case Boolean bool -> nodes.booleanNode(bool);
            case String string -> nodes.textNode(string);
            case GgufArray array -> {
                ObjectNode nested = nodes.objectNode();
                putValue(nested, array);
                yield nested;
            }
            default -> throw new IllegalStateException("unexpected array item " + item.getClass());
        };
    }

    /** SHA-256 of all items, encoded as the class comment describes. */
    static byte[] itemsSha256(GgufArray array) throws NoSuchAlgorithmException {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        for (Object item : array.values()) hashItem(digest, item);
        return digest.digest();
    }

    private static void hashItem(MessageDigest digest, Object item) {
        ByteBuffer scratch = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        switch (item) {
            case Long integer -> digest.update(scratch.putLong(integer).array(), 0, 8);
            case Double real -> digest.update(scratch.putDouble(real).array(), 0, 8);
            case Boolean bool -> digest.update((byte) (bool ? 1 : 0));
            case String string -> {
                byte[] utf8 = string.getBytes(StandardCharsets.UTF_8);
                digest.update(scratch.putLong(utf8.length).array(), 0, 8);
                digest.update(utf8);
            }
            case GgufArray array -> {
                digest.update(scratch.putInt(array.elementType().id()).putLong(array.size()).array(), 0, 12);
                for (Object nested : array.values()) hashItem(digest, nested);
            }
            default -> throw new IllegalStateException("unexpected array item " + item.getClass());
        }
    }

    /** What Aether makes of the file: runnable, or why not. */
    private static ObjectNode verdict(GgufFile gguf, Set<GgmlType> tensorTypes) throws Exception {
        ObjectNode verdict = JsonNodeFactory.instance.objectNode();
        String architecture = gguf.findString("general.architecture").orElse(null);
        verdict.put("architecture", architecture);
        String tokenizer = gguf.findString("tokenizer.ggml.model").orElse(null);
        if (tokenizer != null) {
            verdict.put("tokenizer", tokenizer + gguf.findString("tokenizer.ggml.pre").map(pre -> " (pre-tokenizer " + pre + ")").orElse(""));
        }
        String problem;
        if (gguf.tensors().isEmpty()) {
            problem = "vocabulary only, no tensors";
        } else if (architecture == null) {
            problem = "not supported: no general.architecture key";
        } else if (!RUNNABLE_ARCHITECTURES.contains(architecture)) {
            problem = "not supported: architecture '" + architecture + "' (Aether runs " + String.join(", ", RUNNABLE_ARCHITECTURES.stream().sorted().toList()) + ")";
        } else {
            Set<GgmlType> unsupported = EnumSet.noneOf(GgmlType.class);
            for (GgmlType type : tensorTypes) if (!RUNNABLE_TENSOR_TYPES.contains(type)) unsupported.add(type);
            problem = unsupported.isEmpty() ? null : "not supported: tensor types " + unsupported + " have no Aether kernel (supported "
                    + RUNNABLE_TENSOR_TYPES + ")";
        }
        verdict.put("runnable", problem == null);
        verdict.put("verdict", problem == null ? "supported: " + architecture : problem);
        if (architecture != null) putHyperparameters(verdict.putObject("hyperparameters"), gguf, architecture);
        return verdict;
    }

    /** The architecture's main sizes, where present as integers (a diagnostic tool must not fail on odd types). */
    private static void putHyperparameters(ObjectNode node, GgufFile gguf, String architecture) {
        for (Map.Entry<String, String> size : HYPERPARAMETERS) {
            if (gguf.metadata().get(architecture + size.getValue()) instanceof Long value) node.put(size.getKey(), value);
        }
    }

    // ---------------------------------------------------------------- text rendering

    private static void printText(ObjectNode report, PrintWriter out) {
        out.printf("file        %s (%,d bytes)%n", report.get("file").asText(), report.get("file_size").asLong());
        out.printf("GGUF        version %d, alignment %d, data section at byte %,d%n", report.get("version").asInt(),
                report.get("alignment").asLong(), report.get("data_offset").asLong());
        out.printf("%nmetadata    %d keys%n", report.get("metadata").size());
        int keyWidth = 8;
        for (JsonNode entry : report.get("metadata")) keyWidth = Math.max(keyWidth, entry.get("key").asText().length());
        for (JsonNode entry : report.get("metadata")) {
            String type = entry.has("element_type")
                    ? entry.get("element_type").asText() + "[" + entry.get("length").asLong() + "]" : entry.get("type").asText();
            out.printf("  %-" + keyWidth + "s  %-14s %s%n", entry.get("key").asText(), type, textValue(entry,
                    "FLOAT32".equals(entry.path("element_type").asText(entry.get("type").asText()))));
        }
        out.printf("%ntensors     %d, %,d parameters, %,d bytes%n", report.get("tensor_count").asInt(),
                report.get("parameters").asLong(), report.get("tensor_bytes").asLong());
        if (!report.get("tensors").isEmpty()) {
            int nameWidth = 4;
            for (JsonNode tensor : report.get("tensors")) nameWidth = Math.max(nameWidth, tensor.get("name").asText().length());
            out.printf("  %-" + nameWidth + "s  %-7s %-22s %13s %13s%n", "name", "type", "shape", "bytes", "offset");
            for (JsonNode tensor : report.get("tensors")) {
                StringBuilder shape = new StringBuilder();
                for (JsonNode dimension : tensor.get("shape")) shape.append(shape.isEmpty() ? "" : " x ").append(dimension.asLong());
                out.printf("  %-" + nameWidth + "s  %-7s %-22s %,13d %,13d%n", tensor.get("name").asText(), tensor.get("type").asText(),
                        shape, tensor.get("bytes").asLong(), tensor.get("offset").asLong());
            }
            out.printf("%ntotals by type%n");
            report.get("tensor_types").properties().forEach(total -> out.printf("  %-7s %5d tensors %,15d elements %,15d bytes%n",
                    total.getKey(), total.getValue().get("tensors").asLong(), total.getValue().get("elements").asLong(),
                    total.getValue().get("bytes").asLong()));
        }
        JsonNode aether = report.get("aether");
        out.printf("%naether      %s%n", aether.get("verdict").asText());
        if (aether.has("hyperparameters") && !aether.get("hyperparameters").isEmpty()) {
            StringBuilder sizes = new StringBuilder();
            aether.get("hyperparameters").properties().forEach(size -> sizes.append(sizes.isEmpty() ? "" : ", ")
                    .append(size.getKey().replace('_', ' ')).append(' ').append(size.getValue().asLong()));
            out.printf("sizes       %s%n", sizes);
        }
        if (aether.has("tokenizer")) out.printf("tokenizer   %s%n", aether.get("tokenizer").asText());
    }

    /** A value for the text report; FLOAT32 values print at float precision (1.0E-5, not 9.99999974E-6). */
    private static String textValue(JsonNode entry, boolean float32) {
        if (!entry.has("items")) return shortText(entry.get("value"), float32);
        StringBuilder text = new StringBuilder();
        for (JsonNode item : entry.get("items")) {
            text.append(text.isEmpty() ? "" : ", ").append(item.isObject() ? "[" + item.get("element_type").asText() + " x "
                    + item.get("length").asLong() + "]" : shortText(item, float32));
        }
        if (entry.get("length").asLong() > entry.get("items").size()) text.append(", ...");
        return "[" + text + "] sha256 " + entry.get("items_sha256").asText().substring(0, 12);
    }

    private static String shortText(JsonNode value, boolean float32) {
        if (float32 && value.isNumber()) return Float.toString((float) value.asDouble());
        if (!value.isTextual()) return value.toString();
        String escaped = value.asText().replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
        return "\"" + (escaped.length() > SHOWN_STRING_CHARS ? escaped.substring(0, SHOWN_STRING_CHARS) + "\"..." : escaped + "\"");
    }
}
