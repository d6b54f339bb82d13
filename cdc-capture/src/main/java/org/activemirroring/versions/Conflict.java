package org.activemirroring.versions;

import java.time.Instant;
import java.util.Map;

import org.activemirroring.change.RowVersion;

/**
 * One write that lost under the conflict rule, kept with everything needed to see what happened
 * and to restore it by hand: both row images, both versions.
 *
 * @param id          position in this mirror's conflict log (0 before it is stored)
 * @param detectedAt  when this mirror resolved it
 * @param kind        {@link Kind}
 * @param table       {@code schema.table}
 * @param key         the identity of the losing row (column to canonical value)
 * @param loser       version of the losing write
 * @param loserOp     what the losing write did ({@code c}, {@code u}, {@code d})
 * @param loserRow    the losing row image as JSON (null for a delete)
 * @param winner      version of the write that was kept
 * @param winnerRow   the row as kept, as JSON (null if the winner is a delete)
 * @param loserSeq    the envelope seq of the losing change at its origin, 0 when it was the
 *                    local row that lost
 */
public record Conflict(long id, Instant detectedAt, Kind kind, String table, Map<String, String> key,
                       RowVersion loser, String loserOp, String loserRow, RowVersion winner, String winnerRow,
                       long loserSeq) {

    /** Why a write lost. */
    public enum Kind {
        /** Two mirrors wrote the same row concurrently; the older (clock, origin) lost. */
        UPDATE,
        /** A local write and a peer's write to the same row crossed before capture saw the local one. */
        RACE,
        /** Two different rows claimed the same value of a unique key; one was kept everywhere. */
        UNIQUE,
        /**
         * A row this mirror's site wrote before the mirror joined the network, which the network
         * holds differently (same key, other values, or another row on one of its unique keys).
         */
        JOIN
    }
}
