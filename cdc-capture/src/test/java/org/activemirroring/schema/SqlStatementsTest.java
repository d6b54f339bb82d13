package org.activemirroring.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class SqlStatementsTest {

    @Test
    void splitsAtSemicolonsOutsideQuotesCommentsAndDollarQuotes() {
        String sql = "BEGIN; CREATE TABLE \"a;b\" (v text DEFAULT 'x;''y'); -- c;d\n"
                + "INSERT INTO t VALUES (E'\\';'); /* a; /* nested; */ still; */ CREATE FUNCTION f() RETURNS int"
                + " AS $body$ SELECT 1; $body$ LANGUAGE sql; COMMIT;";
        assertEquals(List.of("BEGIN", "CREATE TABLE \"a;b\" (v text DEFAULT 'x;''y')",
                "-- c;d\nINSERT INTO t VALUES (E'\\';')",
                "/* a; /* nested; */ still; */ CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
                "COMMIT"), SqlStatements.split(sql));
    }

    @Test
    void aSingleStatementWithoutSemicolonIsOne() {
        assertEquals(List.of("ALTER TABLE t ADD COLUMN c int"), SqlStatements.split("  ALTER TABLE t ADD COLUMN c int \n"));
        assertEquals(List.of(), SqlStatements.split(" ; -- nothing\n ;"));
    }

    @Test
    void tellsSchemaChangesFromTheRest() {
        assertTrue(SqlStatements.isSchemaChange("create table t (id int)"));
        assertTrue(SqlStatements.isSchemaChange("-- why\n  ALTER TABLE t ADD c int"));
        assertTrue(SqlStatements.isSchemaChange("/* x */ DROP INDEX i"));
        assertTrue(SqlStatements.isSchemaChange("GRANT SELECT ON t TO r"));
        assertFalse(SqlStatements.isSchemaChange("INSERT INTO t VALUES (1)"));
        assertFalse(SqlStatements.isSchemaChange("BEGIN"));
        assertFalse(SqlStatements.isSchemaChange("ALTER SEQUENCE s INCREMENT BY 16"));
        assertFalse(SqlStatements.isSchemaChange("ALTER PUBLICATION p ADD TABLE t"));
        assertFalse(SqlStatements.isSchemaChange("DO $$ BEGIN CREATE TABLE x (i int); END $$"));
        assertFalse(SqlStatements.isSchemaChange("ALTER TABLE notes ALTER COLUMN id RESTART WITH 1"));
        assertFalse(SqlStatements.isSchemaChange("alter table notes alter id set increment by 1, alter id restart"));
        assertTrue(SqlStatements.isSchemaChange("ALTER TABLE notes ALTER COLUMN id SET GENERATED ALWAYS"));
        assertTrue(SqlStatements.isSchemaChange("ALTER TABLE notes ALTER COLUMN id RESTART, ADD COLUMN x int"));
        assertTrue(SqlStatements.isSchemaChange("ALTER TABLE notes ALTER COLUMN v TYPE bigint"));
    }
}
