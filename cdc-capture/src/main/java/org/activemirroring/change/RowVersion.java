package org.activemirroring.change;

import java.util.Objects;

/**
 * The version of one row: the hybrid-clock timestamp and origin of the write that produced it.
 * Versions are totally ordered by clock, then origin id, which is the conflict rule:
 * last writer wins, the same decision on every mirror.
 *
 * @param clock  {@link HybridClock} timestamp of the winning write; 0 for {@link #NONE}
 * @param origin node id of the mirror where that write was made; empty for {@link #NONE}
 */
public record RowVersion(long clock, String origin) implements Comparable<RowVersion> {

    /** The version of a row that no mirrored write has touched yet; older than any other. */
    public static final RowVersion NONE = new RowVersion(0, "");

    public RowVersion {
        Objects.requireNonNull(origin, "origin");
    }

    @Override
    public int compareTo(RowVersion o) {
        int c = Long.compare(clock, o.clock);
        return c != 0 ? c : origin.compareTo(o.origin);
    }

    /** True if this version wins over {@code other} under the conflict rule. */
    public boolean isNewerThan(RowVersion other) {
        return compareTo(other) > 0;
    }

    @Override
    public String toString() {
        return this == NONE || (clock == 0 && origin.isEmpty()) ? "none" : HybridClock.format(clock) + "@" + origin;
    }
}
