package org.activemirroring.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the catalogs behind one {@link PostgresSchemaScript}: collects the statements per kind,
 * then orders them into the two phases. Expects {@code search_path} pinned to {@code pg_catalog},
 * so {@code format_type}, {@code pg_get_expr} and the other deparsing functions qualify every
 * name; quotes names with {@code quote_ident}, as those functions do. One use per instance.
 */
final class PostgresSchemaReader {
    private static final String RELATION = """
            SELECT c.oid, quote_ident(n.nspname), quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                   c.relkind, c.relispartition, c.reloftype <> 0,
                   (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                      FROM pg_inherits i WHERE i.inhrelid = c.oid),
                   EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid),
                   c.relpersistence = 'u', c.reloptions, c.relreplident,
                   (SELECT quote_ident(ci.relname) FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
                    WHERE i.indrelid = c.oid AND i.indisreplident),
                   c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ? AND c.relname = ?
            """;

    /** Collation only when it differs from the type's, as pg_dump writes it. */
    private static final String COLUMNS = """
            SELECT a.attnum, a.attname, quote_ident(a.attname), a.atttypid, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                   CASE WHEN a.attcollation <> t.typcollation
                        THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                   cn.nspname
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;

    /**
     * The sequences of a table, as {@link PostgresSequences} finds them: 'i' feeds an identity
     * column, 'a' is owned by a column (serial, OWNED BY), 'd' is called by a column's DEFAULT
     * (the default depends on it).
     */
    private static final String SEQUENCES = """
            WITH uses AS (
                SELECT d.objid AS seq, d.refobjsubid AS col, d.deptype::text AS how
                FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.refobjid = ? AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
                UNION
                SELECT d.refobjid, ad.adnum, 'd'
                FROM pg_attrdef ad
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                WHERE ad.adrelid = ? AND d.refclassid = 'pg_class'::regclass
            )
            SELECT u.how, u.col, quote_ident(a.attname), quote_ident(sn.nspname),
                   quote_ident(sn.nspname) || '.' || quote_ident(s.relname), format_type(p.seqtypid, NULL),
                   p.seqincrement, p.seqmin, p.seqmax, p.seqstart, p.seqcache, p.seqcycle
            FROM uses u
            JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_sequence p ON p.seqrelid = s.oid
            JOIN pg_attribute a ON a.attrelid = ? AND a.attnum = u.col
            ORDER BY 5, 1
            """;

    private static final String TYPE = """
            SELECT t.typtype, t.typcategory, t.typelem, t.typbasetype, n.nspname, quote_ident(n.nspname),
                   format_type(t.oid, NULL), format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                   pg_get_expr(t.typdefaultbin, 0),
                   CASE WHEN t.typcollation <> b.typcollation
                        THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                   cn.nspname,
                   (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                    WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                      AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
                   t.typrelid, (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid)
            FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace
            LEFT JOIN pg_type b ON b.oid = t.typbasetype
            LEFT JOIN pg_collation co ON co.oid = t.typcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE t.oid = ?
            """;

    /** The attributes of a composite type, collation only where it differs from the attribute type's. */
    private static final String COMPOSITE_ATTRIBUTES = """
            SELECT quote_ident(a.attname), a.atttypid, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attcollation <> t.typcollation
                        THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                   cn.nspname
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;

    private static final String EXTENSION =
            "SELECT quote_ident(e.extname), quote_ident(n.nspname) FROM pg_extension e"
                    + " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = ?";

    private static final String ENUM_LABELS =
            "SELECT quote_literal(enumlabel) FROM pg_enum WHERE enumtypid = ? ORDER BY enumsortorder";

    private static final String DOMAIN_CHECKS = """
            SELECT quote_ident(conname), pg_get_constraintdef(oid), convalidated
            FROM pg_constraint WHERE contypid = ? AND contype = 'c' ORDER BY conname
            """;

    /**
     * Table constraints, keys first (foreign keys need the referenced table's key). NOT NULL
     * ('n', PostgreSQL 18) belongs to the column; 't' is a constraint trigger, not copied.
     */
    private static final String CONSTRAINTS = """
            SELECT quote_ident(conname), contype, pg_get_constraintdef(oid), convalidated
            FROM pg_constraint WHERE conrelid = ? AND contype IN ('p', 'u', 'c', 'x', 'f')
            ORDER BY array_position(ARRAY['p', 'u', 'c', 'x', 'f'], contype::text), conname
            """;

    /**
     * Indexes that no key or exclusion constraint creates (a foreign key's conindid names the
     * referenced table's index, hence the conrelid match). Invalid ones are half-built leftovers
     * of a failed CREATE INDEX CONCURRENTLY.
     */
    private static final String INDEXES = """
            SELECT pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
            WHERE i.indrelid = ? AND i.indisvalid AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
            ORDER BY ci.relname
            """;

    /** A table as pg_class describes it; {@code sql} is its qualified, quoted name. */
    private record Relation(long oid, String schemaSql, String sql, boolean unlogged, String options,
                            String replicaIdentity, String replicaIndex, boolean rowSecurity,
                            boolean forceRowSecurity) {
    }

    /**
     * A column as {@link #COLUMNS} reads it: {@code sql} is its quoted name, {@code type} from
     * format_type, {@code expression} its default or generation expression, {@code identity} and
     * {@code generated} the pg_attribute codes ("" when neither), {@code collation} null when the
     * type's own.
     */
    private record Column(int attnum, String name, String sql, long typeOid, String type, boolean notNull,
                          String expression, String identity, String generated, String collation,
                          String collationSchema) {
    }

    /** A sequence a table uses; {@code how} as in {@link #SEQUENCES}, options as CREATE SEQUENCE takes them. */
    private record SequenceUse(String how, int attnum, String columnSql, String schemaSql, String sql, String type,
                               String options) {
    }

    private final Connection c;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> schemas = new LinkedHashSet<>();
    /** CREATE EXTENSION statements by extension name, for the extensions whose types columns use. */
    private final Map<String, String> extensions = new LinkedHashMap<>();
    /** CREATE TYPE / DOMAIN statements by type oid, in dependency order (a domain after its base type). */
    private final Map<Long, String> types = new LinkedHashMap<>();
    private final Map<String, String> sequences = new LinkedHashMap<>();
    private final List<String> tables = new ArrayList<>();
    private final List<String> keys = new ArrayList<>();
    private final List<String> indexes = new ArrayList<>();
    private final List<String> foreignKeys = new ArrayList<>();
    private final List<String> finishing = new ArrayList<>();
    private final List<String> ownedBy = new ArrayList<>();

    PostgresSchemaReader(Connection c) {
        this.c = c;
    }

    PostgresSchemaScript read(List<String> names) throws SQLException {
        for (String name : new LinkedHashSet<>(names)) {
            Relation table = relation(name);
            if (table != null) {
                readTable(name, table);
            }
        }
        if (!problems.isEmpty()) {
            throw new SQLException("Cannot copy the schema of the mirrored tables from the donor: "
                    + String.join("; ", problems) + ". Create these tables on the new mirror with the site's own"
                    + " migrations before it joins, or exclude them with mirror.tables.exclude");
        }
        List<String> before = new ArrayList<>();
        for (String schema : schemas) {
            before.add("CREATE SCHEMA IF NOT EXISTS " + schema);
        }
        before.addAll(extensions.values());
        before.addAll(types.values());
        before.addAll(sequences.values());
        before.addAll(tables);
        List<String> after = new ArrayList<>(keys);
        after.addAll(indexes);
        after.addAll(foreignKeys);
        after.addAll(finishing);
        after.addAll(ownedBy);
        return new PostgresSchemaScript(before, after);
    }

    /** The table {@code name} (schema.table), or null after recording why it cannot be copied. */
    private Relation relation(String name) throws SQLException {
        int dot = name.indexOf('.');
        if (dot <= 0 || dot == name.length() - 1) {
            problems.add("'" + name + "' is not a schema.table name");
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement(RELATION)) {
            ps.setString(1, name.substring(0, dot));
            ps.setString(2, name.substring(dot + 1));
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    problems.add("table " + name + " does not exist on the donor");
                    return null;
                }
                String refusal = refusal(rs.getString(4), rs.getBoolean(5), rs.getBoolean(6), rs.getString(7),
                        rs.getBoolean(8));
                if (refusal != null) {
                    problems.add("table " + name + " " + refusal);
                    return null;
                }
                return new Relation(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBoolean(9),
                        reloptions(rs.getArray(10)), rs.getString(11), rs.getString(12), rs.getBoolean(13),
                        rs.getBoolean(14));
            }
        }
    }

    /** Why the relation cannot be copied, or null when it can. */
    private static String refusal(String relkind, boolean partition, boolean typed, String parents,
                                  boolean children) {
        if ("p".equals(relkind)) {
            return "is partitioned, which schema copy does not support yet";
        } else if (!"r".equals(relkind)) {
            return "is not a plain table (relkind '" + relkind + "'), and only tables are copied";
        } else if (partition) {
            return "is a partition of " + parents + ", which schema copy does not support yet";
        } else if (parents != null) {
            return "inherits from " + parents + ", which schema copy does not support yet";
        } else if (children) {
            return "has inheriting tables, which schema copy does not support yet";
        } else if (typed) {
            return "is a typed table (CREATE TABLE OF a composite type), which schema copy does not support";
        }
        return null;
    }

    private void readTable(String name, Relation t) throws SQLException {
        schemas.add(t.schemaSql());
        List<SequenceUse> uses = sequenceUses(t);
        StringBuilder create = new StringBuilder("CREATE ").append(t.unlogged() ? "UNLOGGED " : "")
                .append("TABLE IF NOT EXISTS ").append(t.sql()).append(" (");
        appendColumns(name, t, uses, create);
        tables.add(create.append("\n)").append(t.options()).toString());
        for (SequenceUse use : uses) {
            schemas.add(use.schemaSql());
            if (!use.how().equals("i")) {
                sequences.putIfAbsent(use.sql(), "CREATE SEQUENCE IF NOT EXISTS " + use.sql() + " AS " + use.type()
                        + use.options());
            }
            if (use.how().equals("a")) {
                ownedBy.add("ALTER SEQUENCE " + use.sql() + " OWNED BY " + t.sql() + "." + use.columnSql());
            }
        }
        readConstraints(t);
        readIndexes(t);
        finish(t);
    }

    private void appendColumns(String table, Relation t, List<SequenceUse> uses, StringBuilder create)
            throws SQLException {
        String separator = "\n  ";
        for (Column col : columns(t)) {
            String usedBy = "column " + table + "." + col.name();
            requireType(col.typeOid(), usedBy);
            create.append(separator).append(col.sql()).append(' ').append(col.type());
            separator = ",\n  ";
            if (col.collation() != null) {
                requireBuiltinCollation(col.collation(), col.collationSchema(), usedBy);
                create.append(" COLLATE ").append(col.collation());
            }
            if (!col.identity().isEmpty()) {
                create.append(" GENERATED ").append(col.identity().equals("a") ? "ALWAYS" : "BY DEFAULT")
                        .append(" AS IDENTITY").append(identitySequence(uses, col.attnum()));
            } else if (col.generated().equals("s")) {
                create.append(" GENERATED ALWAYS AS (").append(col.expression()).append(") STORED");
            } else if (col.generated().equals("v")) {
                create.append(" GENERATED ALWAYS AS (").append(col.expression()).append(") VIRTUAL");
            } else if (col.expression() != null) {
                create.append(" DEFAULT ").append(col.expression());
            }
            if (col.notNull()) {
                create.append(" NOT NULL");
            }
        }
    }

    private List<Column> columns(Relation t) throws SQLException {
        List<Column> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
            ps.setLong(1, t.oid());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Column(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                            rs.getBoolean(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                            rs.getString(11)));
                }
            }
        }
        return out;
    }

    /** {@code (SEQUENCE NAME s ...)}, so the identity sequence has the donor's name and options. */
    private static String identitySequence(List<SequenceUse> uses, int attnum) {
        for (SequenceUse use : uses) {
            if (use.how().equals("i") && use.attnum() == attnum) {
                return " (SEQUENCE NAME " + use.sql() + use.options() + ")";
            }
        }
        return "";
    }

    private List<SequenceUse> sequenceUses(Relation t) throws SQLException {
        List<SequenceUse> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SEQUENCES)) {
            ps.setLong(1, t.oid());
            ps.setLong(2, t.oid());
            ps.setLong(3, t.oid());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String options = " INCREMENT BY " + rs.getLong(7) + " MINVALUE " + rs.getLong(8)
                            + " MAXVALUE " + rs.getLong(9) + " START WITH " + rs.getLong(10)
                            + " CACHE " + rs.getLong(11) + (rs.getBoolean(12) ? " CYCLE" : " NO CYCLE");
                    out.add(new SequenceUse(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), options));
                }
            }
        }
        return out;
    }

    /**
     * Puts the statements creating type {@code oid}, and the types it is built from, before the
     * tables; records a problem for a type schema copy cannot create. Built-in types (pg_catalog,
     * information_schema) exist on every database; an extension's types come with the extension
     * ({@code CREATE EXTENSION IF NOT EXISTS}, in the donor's schema for it).
     */
    private void requireType(long oid, String usedBy) throws SQLException {
        if (types.containsKey(oid)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(TYPE)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("The type of " + usedBy + " (oid " + oid + ") disappeared while being read");
                }
                String namespace = rs.getString(5);
                if (namespace.equals("pg_catalog") || namespace.equals("information_schema")) {
                    return;
                }
                String typtype = rs.getString(1);
                String name = rs.getString(7);
                String extension = rs.getString(13);
                if (extension != null) {
                    requireExtension(extension);
                } else if (rs.getString(2).equals("A") && rs.getLong(3) != 0) {
                    requireType(rs.getLong(3), usedBy);
                } else if (typtype.equals("e")) {
                    schemas.add(rs.getString(6));
                    types.put(oid, unlessTypeExists("CREATE TYPE " + name + " AS ENUM (" + enumLabels(oid) + ")"));
                } else if (typtype.equals("d")) {
                    requireType(rs.getLong(4), usedBy);
                    schemas.add(rs.getString(6));
                    types.put(oid, unlessTypeExists(domain(oid, name, rs, usedBy)));
                } else if (typtype.equals("c") && "c".equals(rs.getString(15))) {
                    String schema = rs.getString(6);
                    String create = composite(rs.getLong(14), name, usedBy); // the attribute types first
                    schemas.add(schema);
                    types.put(oid, unlessTypeExists(create));
                } else if (typtype.equals("c")) {
                    problems.add(usedBy + " has type " + name + ", the row type of table " + name
                            + ", and schema copy creates only standalone composite types");
                } else {
                    problems.add(usedBy + " has type " + name + ", a " + kind(typtype) + " type, and schema copy"
                            + " creates only enums, composite types, domains over those or built-in types,"
                            + " and the types of extensions");
                }
            }
        }
    }

    /**
     * {@code CREATE TYPE name AS (...)}, after requiring each attribute's type. PostgreSQL lets no
     * composite contain itself, so the recursion ends.
     */
    private String composite(long relid, String name, String usedBy) throws SQLException {
        List<String> attributes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(COMPOSITE_ATTRIBUTES)) {
            ps.setLong(1, relid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String attribute = rs.getString(1) + " " + rs.getString(3);
                    if (rs.getString(4) != null) {
                        requireBuiltinCollation(rs.getString(4), rs.getString(5), usedBy + " (type " + name + ")");
                        attribute += " COLLATE " + rs.getString(4);
                    }
                    attributes.add(attribute);
                    requireType(rs.getLong(2), usedBy + " (type " + name + ")");
                }
            }
        }
        return "CREATE TYPE " + name + " AS (" + String.join(", ", attributes) + ")";
    }

    /** {@code CREATE EXTENSION IF NOT EXISTS}, in the schema the donor has it in. */
    private void requireExtension(String extension) throws SQLException {
        if (extensions.containsKey(extension)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(EXTENSION)) {
            ps.setString(1, extension);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("Extension " + extension + " disappeared while being read");
                }
                schemas.add(rs.getString(2));
                extensions.put(extension, "CREATE EXTENSION IF NOT EXISTS " + rs.getString(1) + " WITH SCHEMA "
                        + rs.getString(2));
            }
        }
    }

    private static String kind(String typtype) {
        return switch (typtype) {
            case "c" -> "composite";
            case "r" -> "range";
            case "m" -> "multirange";
            case "p" -> "pseudo";
            default -> "user-defined base";
        };
    }

    private void requireBuiltinCollation(String collation, String namespace, String usedBy) {
        if (!"pg_catalog".equals(namespace)) {
            problems.add(usedBy + " uses the user-defined collation " + collation
                    + ", which schema copy does not create");
        }
    }

    private String enumLabels(long oid) throws SQLException {
        List<String> labels = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(ENUM_LABELS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    labels.add(rs.getString(1));
                }
            }
        }
        return String.join(", ", labels);
    }

    /**
     * CREATE DOMAIN with its collation, default, NOT NULL and validated checks. A check the donor
     * holds {@code NOT VALID} (rows there may break it) is added after the data, still not valid.
     */
    private String domain(long oid, String name, ResultSet type, String usedBy) throws SQLException {
        StringBuilder sb = new StringBuilder("CREATE DOMAIN ").append(name).append(" AS ").append(type.getString(8));
        String collation = type.getString(11);
        if (collation != null) {
            requireBuiltinCollation(collation, type.getString(12), usedBy + " (domain " + name + ")");
            sb.append(" COLLATE ").append(collation);
        }
        if (type.getString(10) != null) {
            sb.append(" DEFAULT ").append(type.getString(10));
        }
        if (type.getBoolean(9)) {
            sb.append(" NOT NULL");
        }
        try (PreparedStatement ps = c.prepareStatement(DOMAIN_CHECKS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String check = " CONSTRAINT " + rs.getString(1) + " " + rs.getString(2);
                    if (rs.getBoolean(3)) {
                        sb.append(check);
                    } else {
                        finishing.add("ALTER DOMAIN " + name + " ADD" + check);
                    }
                }
            }
        }
        return sb.toString();
    }

    /** PostgreSQL has no CREATE TYPE IF NOT EXISTS: a DO block keeps an existing type instead. */
    private static String unlessTypeExists(String create) {
        String tag = "$type$";
        for (int i = 1; create.contains(tag); i++) {
            tag = "$type" + i + "$";
        }
        return "DO " + tag + " BEGIN " + create + "; EXCEPTION WHEN duplicate_object THEN NULL; END " + tag;
    }

    /** {@code WITH (name = 'value', ...)} from pg_class.reloptions, or "" when there are none. */
    private static String reloptions(Array options) throws SQLException {
        if (options == null) {
            return "";
        }
        List<String> out = new ArrayList<>();
        for (String option : (String[]) options.getArray()) {
            int eq = option.indexOf('=');
            out.add(option.substring(0, eq) + " = '" + option.substring(eq + 1).replace("'", "''") + "'");
        }
        return out.isEmpty() ? "" : " WITH (" + String.join(", ", out) + ")";
    }

    private void readConstraints(Relation t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CONSTRAINTS)) {
            ps.setLong(1, t.oid());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String add = "ALTER TABLE " + t.sql() + " ADD CONSTRAINT " + rs.getString(1) + " " + rs.getString(3);
                    if (!rs.getString(2).equals("f")) {
                        keys.add(add);
                    } else if (rs.getBoolean(4)) {
                        // Added without a scan, then validated on its own: the caller may run the
                        // validation under a savepoint and decide what a violation means.
                        foreignKeys.add(add + " NOT VALID");
                        foreignKeys.add("ALTER TABLE " + t.sql() + " VALIDATE CONSTRAINT " + rs.getString(1));
                    } else {
                        foreignKeys.add(add); // NOT VALID on the donor too: the definition says so
                    }
                }
            }
        }
    }

    private void readIndexes(Relation t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INDEXES)) {
            ps.setLong(1, t.oid());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    indexes.add(rs.getString(1)
                            .replaceFirst("^CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ")
                            .replaceFirst("^CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS "));
                }
            }
        }
    }

    /**
     * Replica identity and row level security, once keys and indexes exist. Row level security
     * waits for the data on purpose: COPY into a table that has it enabled is refused.
     */
    private void finish(Relation t) {
        switch (t.replicaIdentity()) {
            case "f" -> finishing.add("ALTER TABLE " + t.sql() + " REPLICA IDENTITY FULL");
            case "n" -> finishing.add("ALTER TABLE " + t.sql() + " REPLICA IDENTITY NOTHING");
            case "i" -> finishing.add("ALTER TABLE " + t.sql() + " REPLICA IDENTITY USING INDEX " + t.replicaIndex());
            default -> {
                // 'd', the primary key: what a new table has
            }
        }
        if (t.rowSecurity()) {
            finishing.add("ALTER TABLE " + t.sql() + " ENABLE ROW LEVEL SECURITY");
        }
        if (t.forceRowSecurity()) {
            finishing.add("ALTER TABLE " + t.sql() + " FORCE ROW LEVEL SECURITY");
        }
    }
}
