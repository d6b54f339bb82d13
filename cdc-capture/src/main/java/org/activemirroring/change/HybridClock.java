package org.activemirroring.change;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * A hybrid logical clock (Kulkarni et al.): timestamps that follow wall-clock time closely, yet
 * never run backwards and always exceed every timestamp this node has seen from others. The
 * conflict rule orders row versions by (clock, origin), so a write made after seeing a peer's
 * change wins over it even if the peer's wall clock runs ahead.
 *
 * <p>A timestamp is one {@code long}: milliseconds since the epoch in the upper 48 bits, a
 * logical counter in the lower 16 that breaks ties within a millisecond. Thread-safe.
 */
public final class HybridClock {

    static final int LOGICAL_BITS = 16;

    private final Clock wall;
    private long last;

    /** @param wall the physical clock; injected so tests control time */
    public HybridClock(Clock wall) {
        this.wall = Objects.requireNonNull(wall, "wall");
    }

    /** A new timestamp for a local event, greater than every one issued or witnessed before. */
    public synchronized long tick() {
        long physical = wall.millis() << LOGICAL_BITS;
        last = physical > last ? physical : last + 1;
        return last;
    }

    /** Takes note of a timestamp from another node: every later {@link #tick()} exceeds it. */
    public synchronized void witness(long remote) {
        if (remote > last) {
            last = remote;
        }
    }

    /** The newest timestamp issued or witnessed, 0 if none. */
    public synchronized long current() {
        return last;
    }

    /** The wall-clock instant of a timestamp (its logical part dropped), for people reading logs. */
    public static Instant toInstant(long timestamp) {
        return Instant.ofEpochMilli(timestamp >>> LOGICAL_BITS);
    }

    /** A readable form, {@code 2026-11-22T07:00:00.123Z+5}. */
    public static String format(long timestamp) {
        return toInstant(timestamp) + "+" + (timestamp & ((1L << LOGICAL_BITS) - 1));
    }
}
