package ai.aether.gguf;

import java.util.List;
import java.util.Objects;

/**
 * A metadata array: its element type and its elements as Java values ({@code Long},
 * {@code Double}, {@code Boolean}, {@code String}, or {@code GgufArray} for nested arrays).
 * Arrays read from a file are lazy views of the mapping (a 49K-token vocabulary costs one
 * offset table, not 49K strings, until read) and are valid only while the {@link GgufFile}
 * is open; the typed getters of {@code GgufFile} return copies.
 */
public record GgufArray(GgufValueType elementType, List<Object> values) {

    public GgufArray {
        Objects.requireNonNull(elementType, "elementType");
        Objects.requireNonNull(values, "values");
    }

    /** Number of elements. */
    public int size() {
        return values.size();
    }

    /** Element {@code index}. */
    public Object get(int index) {
        return values.get(index);
    }
}
