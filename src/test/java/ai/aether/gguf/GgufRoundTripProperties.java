package ai.aether.gguf;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static ai.aether.gguf.GgufTestWriter.Entry;
import static ai.aether.gguf.GgufTestWriter.Tensor;
import static org.junit.jupiter.api.Assertions.*;

/** Files written by the test-side writer read back exactly: metadata of every type, tensor infos and data. */
class GgufRoundTripProperties {

    @Property(tries = 300)
    void metadataAndTensorsRoundTrip(@ForAll("metadata") List<Entry> metadata, @ForAll("tensors") List<Tensor> tensors,
                                     @ForAll("versions") int version) throws Exception {
        Path file = Files.createTempFile("roundtrip", ".gguf");
        try {
            byte[] bytes = GgufTestWriter.file(version, metadata, tensors);
            Files.write(file, bytes);
            try (GgufFile gguf = GgufFile.open(file)) {
                assertEquals(version, gguf.version());
                assertEquals(metadata.size(), gguf.metadata().size());
                for (Entry entry : metadata) {
                    assertEquals(entry.value(), gguf.metadata().get(entry.key()), entry.key());
                    assertEquals(entry.type(), gguf.findValueType(entry.key()).orElseThrow());
                }
                assertEquals(tensors.size(), gguf.tensors().size());
                for (int t = 0; t < tensors.size(); t++) {
                    Tensor expected = tensors.get(t);
                    GgufTensorInfo info = gguf.tensors().get(t);
                    assertEquals(expected.name(), info.name());
                    assertEquals(expected.type(), info.type());
                    assertArrayEquals(expected.shape(), info.shape());
                    assertEquals(expected.byteSize(), info.byteSize());
                    byte[] data = gguf.tensorData(info).toArray(ValueLayout.JAVA_BYTE);
                    for (int b = 0; b < data.length; b++) assertEquals((byte) ((t * 31 + b) & 0xff), data[b]);
                }
            }
        } finally {
            Files.delete(file);
        }
    }

    @Provide
    Arbitrary<Integer> versions() {
        return Arbitraries.of(2, 3);
    }

    @Provide
    Arbitrary<List<Entry>> metadata() {
        Arbitrary<String> keys = Arbitraries.strings().withChars("abcxyz._0129").ofMinLength(1).ofMaxLength(12)
                .filter(key -> !key.equals("general.alignment"));
        Arbitrary<Entry> entries = Combinators.combine(keys, Arbitraries.of(GgufValueType.values()))
                .flatAs((key, type) -> value(type, 0).map(value -> new Entry(key, type, value)));
        Arbitrary<Entry> alignment = Arbitraries.of(1L, 8L, 32L, 64L, 256L)
                .map(value -> new Entry("general.alignment", GgufValueType.UINT32, value));
        return Combinators.combine(entries.list().ofMaxSize(12).uniqueElements(Entry::key), alignment.optional())
                .as((list, align) -> {
                    if (align.isEmpty()) return list;
                    List<Entry> withAlignment = new java.util.ArrayList<>(list);
                    withAlignment.add(withAlignment.isEmpty() ? 0 : list.size() / 2, align.get());
                    return withAlignment;
                });
    }

    /** A Java value of {@code type} as the reader must return it. */
    private static Arbitrary<Object> value(GgufValueType type, int depth) {
        return switch (type) {
            case UINT8 -> Arbitraries.longs().between(0, 255).map(Object.class::cast);
            case INT8 -> Arbitraries.longs().between(Byte.MIN_VALUE, Byte.MAX_VALUE).map(Object.class::cast);
            case UINT16 -> Arbitraries.longs().between(0, 65535).map(Object.class::cast);
            case INT16 -> Arbitraries.longs().between(Short.MIN_VALUE, Short.MAX_VALUE).map(Object.class::cast);
            case UINT32 -> Arbitraries.longs().between(0, 0xFFFF_FFFFL).map(Object.class::cast);
            case INT32 -> Arbitraries.longs().between(Integer.MIN_VALUE, Integer.MAX_VALUE).map(Object.class::cast);
            case UINT64 -> Arbitraries.longs().between(0, Long.MAX_VALUE).map(Object.class::cast);
            case INT64 -> Arbitraries.longs().map(Object.class::cast);
            case FLOAT32 -> Arbitraries.floats().withSpecialValue(Float.NaN).withSpecialValue(Float.NEGATIVE_INFINITY)
                    .map(f -> (Object) (double) f);
            case FLOAT64 -> Arbitraries.doubles().withSpecialValue(Double.NaN).withSpecialValue(-0.0).map(Object.class::cast);
            case BOOL -> Arbitraries.of(true, false).map(Object.class::cast);
            case STRING -> Arbitraries.oneOf(
                    Arbitraries.strings().withCharRange('\u0000', '\uD7FF').withCharRange('\uE000', '\uFFFF').ofMaxLength(16),
                    Arbitraries.of("", "▁the", "<|im_start|>", "é́", "😀 emoji", "Ġ")).map(Object.class::cast);
            case ARRAY -> {
                Arbitrary<GgufValueType> elementTypes = depth >= 2
                        ? Arbitraries.of(GgufValueType.values()).filter(t -> t != GgufValueType.ARRAY)
                        : Arbitraries.of(GgufValueType.values());
                yield elementTypes.flatMap(elementType -> value(elementType, depth + 1).list().ofMaxSize(8)
                        .map(values -> (Object) new GgufArray(elementType, values)));
            }
        };
    }

    @Provide
    Arbitrary<List<Tensor>> tensors() {
        Arbitrary<Tensor> tensor = Combinators.combine(
                Arbitraries.strings().withChars("abc.0123_").ofMinLength(1).ofMaxLength(20),
                Arbitraries.of(GgmlType.values()),
                Arbitraries.integers().between(1, 3),
                Arbitraries.longs().between(1, 3).list().ofMinSize(0).ofMaxSize(3)
        ).as((name, type, blocks, outer) -> {
            long[] shape = new long[1 + outer.size()];
            shape[0] = (long) blocks * type.blockSize();
            for (int d = 0; d < outer.size(); d++) shape[d + 1] = outer.get(d);
            return new Tensor(name, type, shape);
        });
        return tensor.list().ofMaxSize(6).uniqueElements(Tensor::name);
    }
}
