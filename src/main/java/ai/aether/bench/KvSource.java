package ai.aether.bench;

import java.io.IOException;

/**
 * Where benchmark inputs come from: a list of decode-step snapshots (layers and/or batch
 * entries), loaded one at a time so that only one long cache is in memory.
 */
public interface KvSource {

    /** One line saying what this source is, for the report. */
    String describe();

    /** Number of snapshots. */
    int count();

    /** Snapshot {@code index} (0-based) with {@code tokens} cached tokens. */
    KvSnapshot load(int index, int tokens) throws IOException;

    /** Longest cache this source can provide, or Integer.MAX_VALUE when unbounded (synthetic). */
    int maxTokens();
}
