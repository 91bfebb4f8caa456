package ai.aether.gguf;

/**
 * Bounds on what the parser builds on the heap from a file, so that a hostile file cannot
 * exhaust memory: every count is already bounded by the bytes left in the file, but a
 * multi-gigabyte file could still ask for gigabytes of Java objects. Real files stay far below
 * these (SmolLM2: 33 keys, 272 tensors, about 100K array strings, 20 KB of decoded text).
 *
 * @param maxMetadataEntries metadata key/value pairs
 * @param maxTensors         tensor-table entries
 * @param maxStringBytes     bytes of one string decoded eagerly (a key, a string value, a tensor name)
 * @param maxDecodedBytes    bytes of all eagerly decoded strings together
 * @param maxIndexedItems    string-array elements plus nested arrays, all arrays together
 *                           (each costs an index entry; scalar arrays stay in the mapping and cost nothing)
 */
record GgufLimits(long maxMetadataEntries, long maxTensors, long maxStringBytes, long maxDecodedBytes, long maxIndexedItems) {

    static final GgufLimits DEFAULT = new GgufLimits(1 << 20, 1 << 20, 64L << 20, 256L << 20, 1 << 24);
}
