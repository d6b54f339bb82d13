package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.config.ConfigException;
import org.activemirroring.config.ConfigOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MirrorConfigTest {

    private static Map<String, String> valid() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mirror.node.id", "web-1");
        m.put("mirror.node.slot", "1");
        m.put("mirror.data.dir", "/var/lib/activemirroring");
        m.put("mirror.db.url", "jdbc:postgresql://127.0.0.1:5432/site");
        m.put("mirror.db.user", "mirror");
        m.put("mirror.peers", "10.0.0.2:7800,10.0.0.3:7800");
        return m;
    }

    @Test
    void validSettingsAreAccepted() {
        MirrorConfig c = MirrorConfig.of(valid());
        assertEquals("web-1", c.nodeId());
        assertEquals(List.of("10.0.0.2:7800", "10.0.0.3:7800"), c.transport().peers());
        assertEquals(7800, c.transport().bindPort());
        assertEquals(Path.of("/var/lib/activemirroring"), c.dataDir());
    }

    @Test
    void everyProblemIsReportedInOneErrorNamingKeyValueAndWhatToDo() {
        Map<String, String> m = valid();
        m.remove("mirror.db.url");
        m.put("mirror.node.id", "Web 1");
        m.put("mirror.bind.port", "seventy");
        m.put("mirror.peers", "10.0.0.2");
        m.put("mirror.journal.fsync", "yes");
        m.put("mirror.nodeid", "typo");

        ConfigException e = assertThrows(ConfigException.class, () -> MirrorConfig.of(m));

        List<String> problems = e.problems();
        assertEquals(6, problems.size(), () -> "problems: " + problems);
        assertProblem(problems, "mirror.db.url", "Missing");
        assertProblem(problems, "mirror.node.id", "'Web 1'");
        assertProblem(problems, "mirror.bind.port", "'seventy'");
        assertProblem(problems, "mirror.peers", "host:port");
        assertProblem(problems, "mirror.journal.fsync", "true or false");
        assertProblem(problems, "mirror.nodeid", "Unknown option");
        for (String p : problems) {
            assertTrue(e.getMessage().contains(p), "the message lists " + p);
        }
    }

    @Test
    void outOfRangeNumbersAreRefusedNotClamped() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> MirrorConfig.of(TestMirrors.with(valid(), "mirror.bind.port", "70000")));
        assertProblem(e.problems(), "mirror.bind.port", "between 1 and 65535");
    }

    @Test
    void aMissingSlotIsRefusedSayingWhatItIsFor() {
        Map<String, String> m = valid();
        m.remove("mirror.node.slot");
        ConfigException e = assertThrows(ConfigException.class, () -> MirrorConfig.of(m));
        assertEquals(1, e.problems().size(), () -> "problems: " + e.problems());
        assertProblem(e.problems(), "mirror.node.slot", "Missing");
        assertTrue(e.problems().get(0).contains("unique per mirror"), e.problems().get(0));
        assertTrue(e.problems().get(0).contains("MIRROR_NODE_SLOT"), e.problems().get(0));
    }

    @Test
    void aSlotNotBelowMaxMirrorsIsOneClearError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> MirrorConfig.of(TestMirrors.with(valid(), "mirror.node.slot", "20")));
        assertEquals(List.of("mirror.node.slot=20 is not below mirror.max-mirrors=16: slots run from 0 to 15; give"
                + " this mirror a free slot in that range, or raise mirror.max-mirrors (the same value on every mirror)."),
                e.problems());

        Map<String, String> more = TestMirrors.with(valid(), "mirror.node.slot", "20");
        more.put("mirror.max-mirrors", "32");
        MirrorConfig c = MirrorConfig.of(more);
        assertEquals(20, c.capture().nodeSlot());
        assertEquals(32, c.capture().maxMirrors());

        // A bad max-mirrors is reported once, not again as a slot problem.
        more.put("mirror.max-mirrors", "1");
        ConfigException bad = assertThrows(ConfigException.class, () -> MirrorConfig.of(more));
        assertEquals(1, bad.problems().size(), () -> "problems: " + bad.problems());
        assertProblem(bad.problems(), "mirror.max-mirrors", "between 2 and 1024");

        ConfigException negative = assertThrows(ConfigException.class,
                () -> MirrorConfig.of(TestMirrors.with(valid(), "mirror.node.slot", "-1")));
        assertProblem(negative.problems(), "mirror.node.slot", "'-1'");
    }

    @Test
    void aNonPostgresUrlIsRefusedWithWhatToDo() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> MirrorConfig.of(TestMirrors.with(valid(), "mirror.db.url", "jdbc:oracle:thin:@db:1521/x")));
        assertProblem(e.problems(), "mirror.db.url", "jdbc:postgresql://");
    }

    @Test
    void environmentOverridesTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mirror.properties");
        StringBuilder sb = new StringBuilder("# a mirror\n");
        valid().forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        Files.writeString(file, sb.toString());

        MirrorConfig c = MirrorConfig.load(file, Map.of("MIRROR_NODE_ID", "web-2", "MIRROR_BIND_PORT", "7900",
                "UNRELATED", "x"));

        assertEquals("web-2", c.nodeId());
        assertEquals(7900, c.transport().bindPort());
    }

    @Test
    void aMissingFileSaysWhereTheConfigIsLookedFor(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> MirrorConfig.load(dir.resolve("nope.properties"), Map.of()));
        assertTrue(e.getMessage().contains("nope.properties"), e.getMessage());
        assertTrue(e.getMessage().contains("MIRROR_CONFIG"), e.getMessage());
    }

    @Test
    void theAdminPasswordHashIsCheckedAtLoadWithoutShowingIt() {
        MirrorConfig none = MirrorConfig.of(valid());
        assertEquals("admin", none.adminUser());
        assertEquals(null, none.adminPasswordHash(), "no hash: the admin pages are off");

        String hash = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS,
                new java.security.SecureRandom()).encoded();
        Map<String, String> m = TestMirrors.with(valid(), "mirror.admin.password-hash", hash);
        m.put("mirror.admin.user", "ops");
        MirrorConfig c = MirrorConfig.of(m);
        assertEquals("ops", c.adminUser());
        assertTrue(c.adminPasswordHash().matches("pw".toCharArray()));

        // The password itself where the hash belongs: refused, and not echoed into the log.
        m.put("mirror.admin.password-hash", "MyPlainPassword");
        m.put("mirror.admin.user", "ops:1");
        ConfigException e = assertThrows(ConfigException.class, () -> MirrorConfig.of(m));
        assertEquals(2, e.problems().size(), () -> "problems: " + e.problems());
        assertProblem(e.problems(), "mirror.admin.password-hash", "org.activemirroring.mirror.AdminPassword");
        assertProblem(e.problems(), "mirror.admin.user", "':'");
        assertFalse(e.getMessage().contains("MyPlainPassword"), e.getMessage());
    }

    @Test
    void foldersAreReadAndCheckedWithTheRest(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        Map<String, String> raw = new java.util.HashMap<>(valid());
        raw.put("mirror.folders", "uploads");
        raw.put("mirror.folder.uploads.path", tmp.toString());
        raw.put("mirror.files.debounce.ms", "50");
        MirrorConfig c = MirrorConfig.of(raw);
        assertEquals(tmp.toAbsolutePath().normalize(), c.folders().folder("uploads").root());
        assertEquals(50, c.fileSync().debounceMs());

        raw.put("mirror.folder.uploads.pth", "x");
        raw.put("mirror.files.parallel.files", "0");
        ConfigException e = assertThrows(ConfigException.class, () -> MirrorConfig.of(raw));
        assertProblem(e.problems(), "mirror.folder.uploads.pth", "fix the spelling");
        assertProblem(e.problems(), "mirror.files.parallel.files", "between 1 and 64");
    }

    @Test
    void everyOptionIsDocumentedAndUnique() {
        Set<String> keys = new HashSet<>();
        for (ConfigOption<?> o : MirrorConfig.ALL_OPTIONS) {
            assertTrue(keys.add(o.key()), "duplicate option " + o.key());
            // A folder's own options name it: mirror.folder.<name>.path.
            assertTrue(o.key().matches("mirror(\\.([a-z0-9-]+|<name>))+"), "key style: " + o.key());
            assertFalse(o.doc().isBlank(), "doc of " + o.key());
            assertTrue(o.doc().endsWith("."), "doc of " + o.key() + " is a sentence");
        }
    }

    private static void assertProblem(List<String> problems, String key, String fragment) {
        assertTrue(problems.stream().anyMatch(p -> p.contains("'" + key + "'") && p.contains(fragment)),
                () -> "expected a problem about " + key + " mentioning " + fragment + " in " + problems);
    }
}
