package org.activemirroring.site;

import java.time.Instant;
import java.util.Map;

/**
 * A write this mirror's site made that another mirror's write beat, as the conflict log holds it.
 *
 * @param conflictId  its position in this mirror's conflict log ({@code mirror.conflict.id})
 * @param decidedAt   when this mirror decided it
 * @param kind        {@code unique} (two rows claimed one value of a unique key, e.g. the same
 *                    user name registered on two mirrors), {@code update}, {@code race} or
 *                    {@code join}
 * @param table       {@code schema.table}
 * @param key         the lost row's primary (or replica identity) key, column to value as text
 * @param lostRow     the row as this site wrote it, column to value as JSON text; null when the
 *                    lost write was a delete
 * @param keptRow     the row that was kept instead, as JSON text; null when that is a delete
 * @param winnerMirror the mirror whose write was kept
 */
public record LostWrite(long conflictId, Instant decidedAt, String kind, String table, Map<String, String> key,
                        String lostRow, String keptRow, String winnerMirror) {
}
