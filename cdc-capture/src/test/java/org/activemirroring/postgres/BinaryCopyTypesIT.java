package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.db.BulkCopy;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Which column types a join copies in COPY's binary format ({@link PostgresBulkCopy#columnTypes}):
 * built-in types with binary input and output, arrays of them included (text search, bit strings,
 * geometry, multiranges as well); never a type whose binary form names an object of the donor
 * database by its oid (reg* types, the site's own enums, domains and composites, arrays of those),
 * nor an extension's type (citext, hstore: their oids differ per database), nor one without binary
 * input or output, nor tsquery (its binary input refuses the empty query its binary output writes).
 */
class BinaryCopyTypesIT {

    @Test
    void onlyBuiltInTypesWhoseBinaryFormHoldsNoObjectIdAreCopiedInBinary() throws Exception {
        Map<String, Boolean> expected = new LinkedHashMap<>();
        expected.put("bigint", true);
        expected.put("text", true);
        expected.put("numeric(12,3)", true);
        expected.put("timestamp with time zone", true);
        expected.put("jsonb", true);
        expected.put("bytea", true);
        expected.put("integer[]", true);
        expected.put("text[]", true);
        expected.put("int8range", true);
        expected.put("money", true);
        expected.put("tsvector", true);
        expected.put("tsquery", false);
        expected.put("tsquery[]", false);
        expected.put("time with time zone", true);
        expected.put("bit(8)", true);
        expected.put("bit varying", true);
        expected.put("point", true);
        expected.put("polygon", true);
        expected.put("path", true);
        expected.put("circle", true);
        expected.put("numeric[]", true);
        expected.put("bit varying[]", true);
        expected.put("int4multirange", true);
        expected.put("pg_lsn", true);
        expected.put("citext", false);
        expected.put("hstore", false);
        expected.put("hstore[]", false);
        expected.put("pair[]", false);
        expected.put("tsv", false);
        expected.put("mood", false);
        expected.put("mood[]", false);
        expected.put("posint", false);
        expected.put("pair", false);
        expected.put("regclass", false);
        expected.put("regtype[]", false);
        expected.put("aclitem[]", false);
        try (PostgresServers servers = PostgresServers.start("bintypes", 1)) {
            PgServer pg = servers.servers().get(0);
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE DOMAIN posint AS integer CHECK (VALUE > 0);"
                        + " CREATE TYPE pair AS (x int, label text); CREATE EXTENSION citext; CREATE EXTENSION hstore;"
                        + " CREATE DOMAIN tsv AS tsvector");
                int i = 0;
                for (String type : expected.keySet()) {
                    st.execute("CREATE TABLE t" + i++ + " (id int PRIMARY KEY, v " + type + ")");
                }
                int j = 0;
                for (Map.Entry<String, Boolean> e : expected.entrySet()) {
                    BulkCopy.ColumnTypes types = new PostgresBulkCopy().columnTypes(c, "public.t" + j++, List.of("id", "v"));
                    assertEquals(e.getValue(), types.binary(), e.getKey());
                    assertEquals(List.of("integer", e.getKey()), types.names(), e.getKey());
                }
            }
        }
    }
}
