package org.activemirroring.sequences;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.activemirroring.schema.MirroredTables;

/**
 * What key allocation needs from a database (PostgreSQL's is
 * {@code org.activemirroring.postgres.PostgresSequences}): the sequences that feed mirrored
 * tables, their state, the highest key already used, and re-aligning one to this mirror's slot.
 */
public interface SequenceCatalog {

    /** A column a sequence feeds, quoted for SQL; {@code integral} when max(column) is a usable bound. */
    record Feed(String table, String tableSql, String columnSql, boolean integral) {
    }

    /**
     * A sequence feeding mirrored tables, with its state as {@code pg_sequences} shows it.
     *
     * @param sql       schema-qualified, quoted name for SQL
     * @param name      schema.name for logs
     * @param lastValue {@code pg_sequences.last_value}: null when the sequence was never used,
     *                  after {@code RESTART} or {@code setval(s, v, false)}, or without privilege
     */
    record Sequence(String sql, String name, long increment, long minValue, long maxValue, Long lastValue,
                    List<Feed> feeds) {
    }

    /**
     * What a correction changed.
     *
     * @param before the state found (under the lock)
     * @param after  the value set as handed out, null if none was needed or none is left
     */
    record Correction(SequenceAlignment.State before, Long usedMax, Long after, boolean exhausted) {
    }

    /** The sequences feeding the mirrored tables, with their state. */
    List<Sequence> discover(Connection c, MirroredTables mirrored) throws SQLException;

    /** The sequence's state now. */
    SequenceAlignment.State state(Connection c, Sequence s) throws SQLException;

    /** The highest value stored in a column the sequence feeds, or null if none can tell. */
    Long usedMax(Connection c, Sequence s) throws SQLException;

    /**
     * Makes {@code s} hand out only values of {@code slot} modulo {@code modulus}, above every
     * value already handed out or stored, in one transaction.
     */
    Correction correct(Connection c, Sequence s, int slot, int modulus) throws SQLException;
}
