package org.activemirroring.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

class PostgresServersIT {

    @Test
    void startsIndependentServersReadyForLogicalDecoding() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("fixture", 2)) {
            assertEquals(2, pgs.servers().size());
            assertNotEquals(pgs.get(0).port(), pgs.get(1).port());
            for (PgServer s : pgs.servers()) {
                try (Connection c = s.connect(); Statement st = c.createStatement()) {
                    try (ResultSet rs = st.executeQuery("SHOW wal_level")) {
                        rs.next();
                        assertEquals("logical", rs.getString(1), s.name());
                    }
                    try (ResultSet rs = st.executeQuery("SHOW server_version_num")) {
                        rs.next();
                        assertEquals(16, rs.getInt(1) / 10000, "embedded PostgreSQL major version");
                    }
                    st.execute("CREATE TABLE t (id int primary key)");
                    st.execute("INSERT INTO t VALUES (1)");
                }
            }
            // The servers are independent: a table made on one does not exist on the other's database.
            try (Connection c = pgs.get(1).connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        }
    }
}
