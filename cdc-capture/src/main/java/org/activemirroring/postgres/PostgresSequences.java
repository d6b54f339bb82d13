package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.schema.MirroredTables;
import org.activemirroring.sequences.SequenceAlignment;
import org.activemirroring.sequences.SequenceCatalog;

/**
 * The PostgreSQL side of key allocation: finds the sequences that feed mirrored tables and
 * re-aligns one of them. Kept apart from {@link PostgresDialect}, which is about applying rows.
 *
 * <p>A sequence feeds a table when it is owned by one of its columns (serial, bigserial:
 * {@code OWNED BY}, dependency type 'a'; identity columns: type 'i') or when a column's DEFAULT
 * calls it ({@code nextval('s')}: the default in {@code pg_attrdef} depends on the sequence).
 */
public final class PostgresSequences implements SequenceCatalog {



    /**
     * One query: the sequences feeding tables of {@code schemas} (except {@code excluded}, as
     * schema.table) with their increment, bounds and last value.
     */
    private static final String DISCOVER = """
            WITH feeds AS (
                SELECT d.objid AS seq, d.refobjid AS tbl, d.refobjsubid AS col
                FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
                UNION
                SELECT d.refobjid, ad.adrelid, ad.adnum
                FROM pg_attrdef ad
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                WHERE d.refclassid = 'pg_class'::regclass
            )
            SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname), sn.nspname || '.' || s.relname,
                   tn.nspname || '.' || t.relname, quote_ident(tn.nspname) || '.' || quote_ident(t.relname),
                   quote_ident(a.attname), a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype),
                   ps.increment_by, ps.min_value, ps.max_value, ps.last_value
            FROM feeds f
            JOIN pg_class s ON s.oid = f.seq AND s.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_class t ON t.oid = f.tbl AND t.relkind IN ('r', 'p')
            JOIN pg_namespace tn ON tn.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = f.col AND NOT a.attisdropped
            JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = s.relname
            WHERE tn.nspname = ANY (?)
            ORDER BY 1, 3, 5
            """;

    /** The sequences feeding mirrored tables, each once, in name order. */
    @Override
    public List<Sequence> discover(Connection c, MirroredTables mirrored) throws SQLException {
        Map<String, Sequence> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(DISCOVER)) {
            ps.setArray(1, c.createArrayOf("text", mirrored.schemas().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String table = rs.getString(3);
                    if (!mirrored.isMirrored(table)) {
                        continue;
                    }
                    Sequence s = out.get(rs.getString(1));
                    if (s == null) {
                        long last = rs.getLong(10);
                        Long lastValue = rs.wasNull() ? null : last;
                        s = new Sequence(rs.getString(1), rs.getString(2), rs.getLong(7), rs.getLong(8), rs.getLong(9),
                                lastValue, new ArrayList<>());
                        out.put(s.sql(), s);
                    }
                    s.feeds().add(new Feed(table, rs.getString(4), rs.getString(5), rs.getBoolean(6)));
                }
            }
        }
        return List.copyOf(out.values());
    }

    /**
     * The sequence's real state, read from the sequence relation ({@code is_called} is not in
     * pg_sequences) and {@code pg_sequence}, inside the caller's transaction.
     */
    @Override
    public SequenceAlignment.State state(Connection c, Sequence s) throws SQLException {
        String literal = "'" + s.sql().replace("'", "''") + "'::regclass";
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT s.last_value, s.is_called, p.seqincrement, p.seqmin, p.seqmax FROM "
                     + s.sql() + " s, pg_sequence p WHERE p.seqrelid = " + literal)) {
            if (!rs.next()) {
                throw new SQLException("sequence " + s.name() + " disappeared while being checked");
            }
            return new SequenceAlignment.State(s.sql(), rs.getLong(1), rs.getBoolean(2), rs.getLong(3), rs.getLong(4),
                    rs.getLong(5));
        }
    }

    /**
     * The highest value in the integer columns the sequence feeds, or null if they are empty.
     * Guards against a sequence reset below keys this mirror already used. One index lookup per
     * column when the column is a key; a scan otherwise, but only when a sequence needs a look.
     */
    @Override
    public Long usedMax(Connection c, Sequence s) throws SQLException {
        Long max = null;
        try (Statement st = c.createStatement()) {
            for (Feed f : s.feeds()) {
                if (!f.integral()) {
                    continue;
                }
                try (ResultSet rs = st.executeQuery("SELECT max(" + f.columnSql() + ") FROM " + f.tableSql())) {
                    rs.next();
                    long v = rs.getLong(1);
                    if (!rs.wasNull() && (max == null || v > max)) {
                        max = v;
                    }
                }
            }
        }
        return max;
    }


    /**
     * Makes {@code s} increment by {@code modulus} and hand out only values of {@code slot} above
     * every value already handed out or stored. Runs in one transaction: {@code ALTER SEQUENCE}
     * takes a lock that makes concurrent {@code nextval} calls wait, so no value is handed out
     * between reading the state and {@code setval}.
     */
    @Override
    public Correction correct(Connection c, Sequence s, int slot, int modulus) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            SequenceAlignment.State before = state(c, s);
            try (Statement st = c.createStatement()) {
                st.execute("ALTER SEQUENCE " + s.sql() + " INCREMENT BY " + modulus);
            }
            SequenceAlignment.State locked = state(c, s);
            Long used = usedMax(c, s);
            Long after = null;
            boolean exhausted = false;
            if (!(locked.isCalled() && SequenceAlignment.isAligned(locked, used, slot, modulus))) {
                after = SequenceAlignment.target(locked, used, slot, modulus);
                exhausted = after == null;
                if (after != null) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?, true)")) {
                        ps.setString(1, s.sql());
                        ps.setLong(2, after);
                        ps.executeQuery().close();
                    }
                }
            }
            c.commit();
            SequenceAlignment.State found = new SequenceAlignment.State(s.sql(), locked.lastValue(), locked.isCalled(),
                    before.increment(), locked.minValue(), locked.maxValue());
            return new Correction(found, used, after, exhausted);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }
}
