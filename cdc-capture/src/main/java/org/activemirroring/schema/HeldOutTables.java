package org.activemirroring.schema;

import java.util.Map;
import java.util.Collections;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tables of the mirrored schemas that cannot be mirrored, and are therefore held out while
 * everything else replicates: a table with no key to find its rows by (no primary key, no unique
 * index over NOT NULL columns), or with a column whose values capture cannot carry exactly. They
 * are found in the catalog at start ({@link MirroredTables#heldOut}), again every little while (a
 * table created since), and when a captured row turns out to hold such a value (a column added
 * since). A held-out table is neither captured, copied by a join nor written by the applier; its
 * rows stay as each mirror's site writes them. Status and health show every one, with why and what
 * to do; once fixed, the next start of the mirror mirrors it again. Thread-safe.
 */
public final class HeldOutTables {
    private static final Logger LOG = LoggerFactory.getLogger(HeldOutTables.class);

    /** Asked for every captured row: a hash lookup; sorted only when shown. */
    private final Map<String, String> tables = new ConcurrentHashMap<>();
    private final String nodeId;
    private final Consumer<String> onNew;

    /**
     * @param onNew told of a table held out while capture runs (e.g. to take it out of the
     *              publication); not called for those found at start
     */
    public HeldOutTables(String nodeId, Consumer<String> onNew) {
        this.nodeId = nodeId;
        this.onNew = onNew;
    }

    /** An empty set that does nothing when a table is held out (tests, tools). */
    public static HeldOutTables none() {
        return new HeldOutTables("", t -> { });
    }

    /** The tables found at start, each logged at WARN once. */
    public void start(Map<String, String> found) {
        for (Map.Entry<String, String> e : found.entrySet()) {
            if (tables.putIfAbsent(e.getKey(), e.getValue()) == null) {
                LOG.warn("Table {} is held out of mirroring: {}. Every other table replicates; this one"
                        + " keeps whatever each mirror's site writes into it. Fix it and restart the mirror, or keep"
                        + " it local on purpose with mirror.tables.exclude={}", e.getKey(), e.getValue(),
                        e.getKey());
            }
        }
    }

    /** Holds a table out from now on (logged at WARN once); true if it was not held out yet. */
    public boolean hold(String table, String why) {
        if (tables.putIfAbsent(table, why) != null) {
            return false;
        }
        LOG.warn("Table {} is held out of mirroring from now on: {}. Its changes are not sent to other"
                + " mirrors; every other table replicates. Fix it and restart the mirror, or keep it local on purpose"
                + " with mirror.tables.exclude={}", table, why, table);
        onNew.accept(table);
        return true;
    }

    public boolean contains(String table) {
        return tables.containsKey(table);
    }

    /** Every held-out table (schema.table) with why, sorted. */
    public Map<String, String> snapshot() {
        return Collections.unmodifiableMap(new TreeMap<>(tables));
    }

    /** Whether no table is held out (health asks this on every call). */
    public boolean isEmpty() {
        return tables.isEmpty();
    }
}
