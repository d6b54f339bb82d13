package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.db.DatabaseAddress;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

class CaptureConfigTest {

    @Test
    void everyOptionIsDocumentedAndListedOnce() {
        assertEquals(CaptureConfig.OPTIONS.size(), CaptureConfig.OPTIONS.stream().map(ConfigOption::key).distinct().count());
        for (ConfigOption<?> o : CaptureConfig.OPTIONS) {
            assertFalse(o.doc().isBlank(), o.key());
            assertTrue(o.doc().endsWith("."), o.key() + " doc is one sentence");
            assertTrue(o.key().startsWith("mirror."), o.key());
        }
    }

    @Test
    void defaults() {
        List<String> problems = new ArrayList<>();
        CaptureConfig c = CaptureConfig.from(Map.of("mirror.db.url", "jdbc:postgresql://db.example:6543/site?ssl=true",
                "mirror.db.user", "mirror", "mirror.node.slot", "3"), problems);
        assertEquals(List.of(), problems);
        assertEquals(new DatabaseAddress("db.example", 6543, "site"), c.address());
        assertEquals("", c.dbPassword());
        assertEquals(List.of("public"), c.schemas());
        assertEquals(List.of(), c.tablesExclude());
        assertEquals("am_web_1", c.slotName("web-1"));
        assertEquals("activemirroring", c.publication());
        assertEquals(2, c.pollIntervalMs());
        assertEquals(1000, c.offsetFlushIntervalMs());
        assertFalse(c.slotDropOnStop());
        assertEquals(3, c.nodeSlot());
        assertEquals(16, c.maxMirrors());
        assertEquals(1000, c.sequencesCheckIntervalMs());
    }

    @Test
    void explicitValues() {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.db.url", "jdbc:postgresql://localhost/site");
        raw.put("mirror.db.user", "u");
        raw.put("mirror.db.password", "secret");
        raw.put("mirror.node.slot", "40");
        raw.put("mirror.max-mirrors", "64");
        raw.put("mirror.sequences.check.interval.ms", "250");
        raw.put("mirror.db.schemas", "public, shop");
        raw.put("mirror.tables.exclude", "public.sessions,shop.cache");
        raw.put("mirror.capture.slot", "my_slot");
        raw.put("mirror.capture.slot.drop-on-stop", "true");
        List<String> problems = new ArrayList<>();
        CaptureConfig c = CaptureConfig.from(raw, problems);
        assertEquals(List.of(), problems);
        assertEquals(5432, c.address().port());
        assertEquals(List.of("public", "shop"), c.schemas());
        assertEquals(List.of("public.sessions", "shop.cache"), c.tablesExclude());
        assertEquals("my_slot", c.slotName("web-1"));
        assertTrue(c.slotDropOnStop());
        assertEquals(40, c.nodeSlot());
        assertEquals(64, c.maxMirrors());
        assertEquals(250, c.sequencesCheckIntervalMs());
    }

    @Test
    void reportsEveryProblemAtOnce() {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.db.url", "jdbc:mysql://localhost/site");
        raw.put("mirror.tables.exclude", "sessions");
        raw.put("mirror.capture.poll.interval.ms", "fast");
        raw.put("mirror.capture.slot.drop-on-stop", "yes");
        List<String> problems = new ArrayList<>();
        CaptureConfig.from(raw, problems);
        assertEquals(6, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("Missing 'mirror.node.slot'")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("'mirror.db.url'") && p.contains("jdbc:postgresql://")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("Missing 'mirror.db.user'")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("'sessions'") && p.contains("schema.table")));
    }

    @Test
    void malformedPostgresUrlSaysWhatAValidOneLooksLike() {
        List<String> problems = new ArrayList<>();
        CaptureConfig.from(Map.of("mirror.db.url", "jdbc:postgresql://host:99999/db", "mirror.db.user", "u",
                "mirror.node.slot", "0"), problems);
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).contains("99999"), problems.get(0));
        problems.clear();
        CaptureConfig.from(Map.of("mirror.db.url", "jdbc:postgresql://h1,h2/db", "mirror.db.user", "u"), problems);
        assertTrue(problems.get(0).contains("host[:port]/database"), problems.get(0));
    }

    @Test
    void mirrorSchemaCannotBeMirrored() {
        List<String> problems = new ArrayList<>();
        CaptureConfig.from(Map.of("mirror.db.url", "jdbc:postgresql://h/db", "mirror.db.user", "u",
                "mirror.node.slot", "0", "mirror.db.schemas", "public,mirror"), problems);
        assertEquals(1, problems.size(), problems.toString());
    }

    @Test
    void aUrlThatIsNotForPostgresqlGivesAMessageNamingItAndWhatToWrite() {
        SQLException e = assertThrows(SQLException.class,
                () -> CaptureConfig.open("jdbc:mysql://localhost/site", new Properties()));
        assertEquals("The PostgreSQL driver does not accept 'jdbc:mysql://localhost/site' as mirror.db.url: write"
                + " jdbc:postgresql://host[:port]/database (e.g. jdbc:postgresql://localhost:5432/site)", e.getMessage());

        CaptureConfig invalid = CaptureConfig.from(Map.of("mirror.db.url", "jdbc:mysql://localhost/site",
                "mirror.db.user", "u", "mirror.node.slot", "0"), new ArrayList<>());
        e = assertThrows(SQLException.class, invalid::connect);
        assertTrue(e.getMessage().startsWith("No valid mirror.db.url is set: write jdbc:postgresql://"), e.getMessage());
    }

    /**
     * Inside Tomcat DriverManager does not know pgjdbc from WEB-INF/lib at first; connect() must
     * not depend on it. Here pgjdbc is taken out of DriverManager, and connecting to a closed port
     * must fail as pgjdbc does (refused), not with "No suitable driver found".
     */
    @Test
    void connectDoesNotNeedDriverManagerToKnowPgjdbc() throws SQLException {
        CaptureConfig c = CaptureConfig.from(Map.of("mirror.db.url", "jdbc:postgresql://127.0.0.1:1/site",
                "mirror.db.user", "u", "mirror.node.slot", "0"), new ArrayList<>());
        boolean wasRegistered = org.postgresql.Driver.isRegistered();
        if (wasRegistered) {
            org.postgresql.Driver.deregister();
        }
        try {
            assertThrows(SQLException.class, () -> DriverManager.getDriver("jdbc:postgresql://127.0.0.1:1/site"),
                    "test setup: DriverManager must not know pgjdbc here");
            SQLException e = assertThrows(SQLException.class, () -> c.connect("connectTimeout", "2"));
            assertInstanceOf(PSQLException.class, e, e.toString());
            assertFalse(e.getMessage().contains("No suitable driver"), e.getMessage());
        } finally {
            if (wasRegistered && !org.postgresql.Driver.isRegistered()) {
                org.postgresql.Driver.register();
            }
        }
    }

    @Test
    void postgresUrlParsesIpv6AndDefaults() {
        assertEquals(new DatabaseAddress("::1", 5433, "db"), parse("jdbc:postgresql://[::1]:5433/db"));
        assertEquals(new DatabaseAddress("h", 5432, "db"), parse("jdbc:postgresql://h/db"));
        assertThrows(IllegalArgumentException.class, () -> parse("jdbc:postgresql://h/"));
        assertThrows(IllegalArgumentException.class, () -> parse("postgres://h/db"));
    }

    private static DatabaseAddress parse(String url) {
        return DatabaseAddress.parse(url, "jdbc:postgresql://", 5432);
    }
}
