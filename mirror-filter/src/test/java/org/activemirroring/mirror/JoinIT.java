package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A new mirror with an empty database joins a running network: it copies one snapshot of a peer
 * (creating the schema when it is absent), replays what happened since, and ends identical to the
 * others while they kept writing. A join that stops goes on from its last loaded chunk, with the
 * same donor while it holds the snapshot, else from another.
 */
class JoinIT {
    private static final Duration CONVERGE = Duration.ofSeconds(120);
    /** Rows seeded into the first mirror before mirroring: enough for dozens of small chunks. */
    private static final int SEED_ROWS = 40_000;
    private static final String SMALL_CHUNKS = "16";
    private static final Pattern PAGES = Pattern.compile("public\\.documents, pages (\\d+)\\.\\.(\\d+)");

    @Test
    void emptyMirrorWithoutSchemaJoinsWhileOthersWriteAndIsNotReadyUntilComplete() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("join", 3)) {
            List<PgServer> servers = pgs.servers();
            SiteSchema.create(servers.get(0));
            SiteSchema.create(servers.get(1));
            seed(servers.get(0));
            // servers.get(2) has no tables at all: the join copies the schema
            List<Map<String, String>> configs = MirrorSettings.forServers("join", servers);
            configs.set(2, TestMirrors.with(configs.get(2), "mirror.join.chunk.pages", SMALL_CHUNKS));
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(configs.subList(0, 2)));
            ExecutorService pool = Executors.newFixedThreadPool(2);
            NodeLauncher launcher = new NodeLauncher(MirrorConfig.of(configs.get(2)), MirrorNode::start);
            try {
                List<Workload> writers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    writers.add(new Workload(configs.get(i).get("mirror.node.id"), i + 1, 3, 70 + i));
                }
                List<Future<?>> running = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    Workload w = writers.get(i);
                    PgServer s = servers.get(i);
                    running.add(pool.submit(() -> {
                        w.runTransactions(s, 300);
                        return null;
                    }));
                }

                launcher.launch();
                // The readiness gate: while the join loads, no node exists to serve the site.
                Await.until(Duration.ofSeconds(60), () -> launcher.phase().contains("joining from"), launcher::phase);
                assertNull(launcher.node(), "a joining mirror must not serve requests: " + launcher.phase());
                // Tables the join created stay out of autovacuum's way until their indexes are built.
                Await.until(Duration.ofSeconds(60), () -> PAGES.matcher(launcher.phase()).find(), launcher::phase);
                try (Connection c = servers.get(2).connect(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT (SELECT after_done FROM mirror.join_state),"
                             + " coalesce(reloptions::text, '') FROM pg_class WHERE oid = 'public.documents'::regclass")) {
                    assertTrue(rs.next());
                    assertTrue(rs.getBoolean(1) || rs.getString(2).contains("autovacuum_enabled=off"),
                            "documents while loading: reloptions " + rs.getString(2));
                }
                Await.until(CONVERGE, () -> launcher.node() != null && launcher.node().isReady(),
                        () -> launcher.phase() + " / " + launcher.lastFailure());
                nodes.add(launcher.node());
                for (Future<?> f : running) {
                    f.get();
                }
                writers.get(2).runTransactions(servers.get(2), 50); // the joined mirror takes writes too

                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 1, CONVERGE);
                ReplicationChecks.assertConvergedExactlyOnceNoEcho(nodes, servers, writers);
                assertTrue(SiteSchema.count(servers.get(2), "documents") >= SEED_ROWS);
                // The copied schema has the donor's constraints and indexes, not just its columns; the
                // foreign keys are validated once the mirror serves.
                Await.until(CONVERGE, () -> !launcher.node().status().validatingForeignKeys(),
                        () -> "still validating foreign keys");
                assertEquals(0, count(servers.get(2), "SELECT count(*) FROM mirror.join_validate"));
                assertEquals(0, count(servers.get(2), "SELECT count(*) FROM pg_constraint WHERE NOT convalidated"));
                assertEquals(schemaObjects(servers.get(0)), schemaObjects(servers.get(2)));
                assertEquals("null", reloptions(servers.get(2), "public.documents"), "autovacuum is back after the join");
                for (MirrorNode n : nodes) {
                    assertTrue(n.status().ready(), n.nodeId() + " ready: " + n.status().problem());
                    // Every site writes its own keys: replaying what the snapshot already held is
                    // no conflict either.
                    assertEquals(List.of(), n.conflicts(10, Long.MAX_VALUE), n.nodeId() + " conflict log");
                }
            } finally {
                pool.shutdownNow();
                launcher.close();
                TestMirrors.closeAll(nodes.subList(0, 2));
            }
        }
    }

    @Test
    void stoppedJoinResumesFromItsLastChunkAndSurvivesLosingItsDonor() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("rejoin", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s); // the joiner has the schema already: only the rows are copied
            }
            seed(servers.get(0));
            List<Map<String, String>> configs = MirrorSettings.forServers("rejoin", servers);
            configs.set(2, TestMirrors.with(configs.get(2), "mirror.join.chunk.pages", SMALL_CHUNKS));
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(configs.subList(0, 2)));
            try {
                // 1. Stop the joiner's start after a few chunks, as a mirror stopped mid-join.
                List<String> first = new CopyOnWriteArrayList<>();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread joiner = new Thread(() -> {
                    try {
                        MirrorNode.start(MirrorConfig.of(configs.get(2)), first::add).close();
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }, "test-joiner");
                joiner.start();
                Await.until(Duration.ofSeconds(60), () -> first.stream().filter(p -> PAGES.matcher(p).find()).count() >= 3,
                        first::toString);
                joiner.interrupt();
                joiner.join(30_000);
                assertTrue(failure.get() instanceof MirrorStartException, "interrupted start: " + failure.get());
                long loadedPages = joinTablePage(servers.get(2), "public.documents");
                assertTrue(loadedPages > 0, "no chunk of documents was recorded as loaded");

                // 2. Start again: it goes on where it stopped, in the same snapshot of the same donor.
                String donor = donorOf(first);
                failure.set(null);
                List<String> second = new CopyOnWriteArrayList<>();
                Thread resumed = new Thread(() -> {
                    try {
                        nodes.add(MirrorNode.start(MirrorConfig.of(configs.get(2)), second::add));
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }, "test-joiner-2");
                resumed.start();
                Await.until(Duration.ofSeconds(60), () -> second.stream().anyMatch(p -> PAGES.matcher(p).find()),
                        second::toString);
                Matcher m = second.stream().map(PAGES::matcher).filter(Matcher::find).findFirst().orElseThrow();
                assertEquals(loadedPages, Long.parseLong(m.group(1)),
                        "the resumed join must start at the first page not loaded yet: " + second);
                assertEquals(donor, donorOf(second), "resumed from the same donor's snapshot");

                // 3. The donor stops mid-join: the joiner goes on from the other mirror.
                int donorIndex = nodes.get(0).nodeId().equals(donor) ? 0 : 1;
                Await.until(Duration.ofSeconds(60), () -> second.size() >= 3, second::toString);
                nodes.get(donorIndex).close();
                resumed.join(CONVERGE.toMillis());
                assertNull(failure.get(), () -> "join failed: " + failure.get());
                assertEquals(3, nodes.size(), "the joiner started");
                assertTrue(second.stream().anyMatch(p -> p.contains("joining from " + nodes.get(1 - donorIndex).nodeId())),
                        "went on from the other mirror: " + second);
                nodes.set(donorIndex, MirrorNode.start(MirrorConfig.of(configs.get(donorIndex))));

                List<Workload> writers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    writers.add(new Workload(nodes.get(i).nodeId(), i + 1, 3, 80 + i));
                    writers.get(i).runTransactions(servers.get(i), 30);
                }
                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 1, CONVERGE);
                Map<String, String> expected = SiteSchema.digest(servers.get(0));
                for (PgServer s : servers) {
                    assertEquals(expected, SiteSchema.digest(s));
                }
                assertThrows(SQLException.class, () -> joinTablePage(servers.get(2), "public.documents"),
                        "a finished join leaves no per-table progress behind");
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    @Test
    void aNewNetworkOfEmptyMirrorsStartsWithoutCopyingOnceEveryMirrorIsReachable() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("fresh", 2)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<Map<String, String>> configs = new ArrayList<>(MirrorSettings.forServers("fresh", servers));
            configs.set(0, TestMirrors.with(configs.get(0), "mirror.join", "auto")); // nobody is "the first"
            List<NodeLauncher> launchers = new ArrayList<>();
            try {
                NodeLauncher first = new NodeLauncher(MirrorConfig.of(configs.get(0)), MirrorNode::start);
                launchers.add(first);
                first.launch();
                // Alone, an empty mirror cannot know that nobody holds data: it waits (for its
                // configured peer first, then, past mirror.start.peers.wait.ms, for one with data).
                Await.until(Duration.ofSeconds(30), () -> first.phase().contains("waiting for the configured peers"),
                        first::phase);
                assertNull(first.node());
                NodeLauncher second = new NodeLauncher(MirrorConfig.of(configs.get(1)), MirrorNode::start);
                launchers.add(second);
                second.launch();
                Await.until(CONVERGE, () -> launchers.stream().allMatch(l -> l.node() != null && l.node().isReady()),
                        () -> first.phase() + " / " + second.phase());
                // The second saw the first waiting, empty: nothing to copy. The first then either
                // saw the same, or found the second already complete and joined it (also empty).
                assertTrue(TestMirrors.joinHow(servers.get(1)).startsWith("new network"), TestMirrors.joinHow(servers.get(1)));
                String firstHow = TestMirrors.joinHow(servers.get(0));
                assertTrue(firstHow.startsWith("new network") || firstHow.startsWith("joined the network"), firstHow);
                try (Connection c = servers.get(0).connect(); Statement st = c.createStatement()) {
                    st.execute("INSERT INTO fences (node, round) VALUES ('fresh', 1)");
                }
                Await.until(CONVERGE, () -> SiteSchema.count(servers.get(1), "fences") == 1, () -> "fence not replicated");
            } finally {
                for (NodeLauncher l : launchers) {
                    l.close();
                }
            }
        }
    }

    /**
     * Two new mirrors whose sites both wrote rows before mirroring, started at once: the one whose
     * id sorts first starts from its database, the other copies it, and the other's own rows are
     * not lost (new keys reach both, a key held differently goes to its conflict log).
     */
    @Test
    void newMirrorsThatBothHoldRowsAgreeOnOneOrigin() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("both", 2)) {
            List<PgServer> servers = pgs.servers();
            for (int i = 0; i < 2; i++) {
                SiteSchema.create(servers.get(i));
                try (Connection c = servers.get(i).connect(); Statement st = c.createStatement()) {
                    st.execute("INSERT INTO documents (id, owner, title, body, version) VALUES (1, 'site', 'welcome',"
                            + " 'seed', 1), (2, 'site', 'about', " + (i == 0 ? "'ours'" : "'theirs'") + ", 1), ("
                            + (10 + i) + ", 'site', 'only here', 'mirror " + i + "', 1)");
                }
            }
            List<Map<String, String>> configs = new ArrayList<>();
            for (Map<String, String> m : MirrorSettings.forServers("both", servers)) {
                configs.add(TestMirrors.with(m, "mirror.join", "auto"));
            }
            List<NodeLauncher> launchers = new ArrayList<>();
            try {
                for (Map<String, String> c : configs) {
                    NodeLauncher l = new NodeLauncher(MirrorConfig.of(c), MirrorNode::start);
                    launchers.add(l);
                    l.launch();
                }
                Await.until(CONVERGE, () -> launchers.stream().allMatch(l -> l.node() != null && l.node().isReady()),
                        () -> launchers.get(0).phase() + " / " + launchers.get(1).phase());
                assertTrue(TestMirrors.joinHow(servers.get(0)).startsWith("no mirror of the network holds data yet"),
                        TestMirrors.joinHow(servers.get(0)));
                assertTrue(TestMirrors.joinHow(servers.get(1)).startsWith("joined the network: copied from both-1"),
                        TestMirrors.joinHow(servers.get(1)));
                Await.until(CONVERGE, () -> SiteSchema.digest(servers.get(0)).equals(SiteSchema.digest(servers.get(1)))
                                && SiteSchema.count(servers.get(0), "documents") == 4,
                        () -> "documents differ: " + dump(servers.get(0)) + " / " + dump(servers.get(1)));
                try (Connection c = servers.get(1).connect(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT loser_row->>'body', winner_row->>'body' FROM mirror.conflict"
                             + " WHERE kind = 'join'")) {
                    assertTrue(rs.next(), "the row the joiner held differently is in its conflict log");
                    assertEquals("theirs", rs.getString(1));
                    assertEquals("ours", rs.getString(2));
                }
            } finally {
                for (NodeLauncher l : launchers) {
                    l.close();
                }
            }
        }
    }

    private static String dump(PgServer server) {
        try (Connection c = server.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT string_agg(id || ':' || body, ', ' ORDER BY id) FROM documents")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return e.toString();
        }
    }

    @Test
    void joinCopiesIdentityGeneratedEnumArrayAndOtherColumnsExactly() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("jtypes", 2)) {
            List<PgServer> servers = pgs.servers();
            try (Connection c = servers.get(0).connect(); Statement st = c.createStatement()) {
                st.execute("""
                        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
                        CREATE TABLE items (
                            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                            code uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
                            moods mood[] NOT NULL,
                            tags text[],
                            price numeric(12,3),
                            price_x2 numeric GENERATED ALWAYS AS (price * 2) STORED,
                            seen timestamptz,
                            span interval,
                            addr inet,
                            doc jsonb,
                            raw bytea,
                            note text);
                        CREATE TABLE item_links (a bigint NOT NULL REFERENCES items(id), b bigint NOT NULL REFERENCES items(id),
                            weight double precision, PRIMARY KEY (a, b)) WITH (autovacuum_enabled = false, fillfactor = 90);
                        INSERT INTO items (moods, tags, price, seen, span, addr, doc, raw, note)
                        SELECT ARRAY['sad', 'happy']::mood[], ARRAY['a b', 'tab\there', 'quote"', NULL], g / 7.0,
                               now() - g * interval '1 hour', g * interval '1 minute', '10.0.0.1'::inet,
                               jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'x')),
                               decode(md5(g::text), 'hex'), E'line1\nline2 \\ back' || g
                        FROM generate_series(1, 3000) g;
                        INSERT INTO item_links SELECT g, g + 1, 'NaN'::float8 FROM generate_series(1, 10) g;
                        INSERT INTO item_links SELECT g, g + 2, g * 0.5 FROM generate_series(1, 2000) g;
                        -- built-in types only: copied in COPY's binary format
                        CREATE TABLE measures (id int PRIMARY KEY, t timestamptz, d date, ts timestamp, n numeric,
                            r real, b boolean, u uuid, j json, ints int[], texts text[], c char(3), vc varchar(10),
                            rng int8range, m money, x xml, mac macaddr, o oid, tm time);
                        INSERT INTO measures SELECT g, CASE WHEN g % 50 = 0 THEN 'infinity' ELSE now() - g * interval '1 day' END,
                               date '2000-02-29' + g, CASE WHEN g % 7 = 0 THEN NULL ELSE timestamp '1999-12-31 23:59:59.999999' END,
                               CASE WHEN g % 40 = 0 THEN 'NaN' ELSE g * 1234.5678 END, CASE WHEN g % 3 = 0 THEN '-0' ELSE g / 3.0 END,
                               g % 2 = 0, gen_random_uuid(), '{"k": [1, 2.50, "x"]}', ARRAY[g, NULL, -g], ARRAY[]::text[],
                               'ab', 'é' || g, int8range(g, g * 2), g * 1.25, '<a x="1">é</a>', '08:00:2b:01:02:03', g,
                               time '23:59:59.5'
                        FROM generate_series(1, 1500) g;
                        """);
            }
            List<Map<String, String>> configs = MirrorSettings.forServers("jtypes", servers);
            List<MirrorNode> nodes = new ArrayList<>();
            List<String> progress = new CopyOnWriteArrayList<>();
            try {
                nodes.add(MirrorNode.start(MirrorConfig.of(configs.get(0))));
                nodes.add(MirrorNode.start(MirrorConfig.of(configs.get(1)), progress::add)); // joins: it has no tables
                // Binary for the tables of built-in types only; items has an array of the site's own
                // enum, whose binary form names the element type by the donor's oid.
                for (String table : List.of("items", "item_links", "measures")) {
                    List<String> chunks = progress.stream().filter(m -> m.contains(" public." + table + ", pages ")).toList();
                    assertTrue(!chunks.isEmpty(), "no chunk of " + table + " in " + progress);
                    boolean binary = table.equals("item_links") || table.equals("measures");
                    for (String m : chunks) {
                        assertEquals(binary, m.contains("(binary)"), m);
                    }
                }
                for (String table : List.of("items", "item_links", "measures")) {
                    assertEquals(tableDigest(servers.get(0), table), tableDigest(servers.get(1), table), table);
                    // The join keeps autovacuum off the tables it creates only until their indexes
                    // are built; a table the site set up otherwise keeps the site's options.
                    assertEquals(reloptions(servers.get(0), table), reloptions(servers.get(1), table), table);
                }
                assertEquals("null", reloptions(servers.get(1), "items"));
                // The copied identity column keeps handing out keys (on this mirror's slot) after the join.
                try (Connection c = servers.get(1).connect(); Statement st = c.createStatement()) {
                    st.execute("INSERT INTO items (moods) VALUES ('{ok}')");
                }
                Await.until(CONVERGE, () -> tableDigest(servers.get(0), "items").equals(tableDigest(servers.get(1), "items")),
                        () -> "the insert on the joined mirror did not replicate");
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    private static long count(PgServer server, String sql) throws SQLException {
        try (Connection c = server.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String reloptions(PgServer server, String table) throws SQLException {
        try (Connection c = server.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(reloptions::text, 'null') FROM pg_class WHERE oid = ?::regclass")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static String tableDigest(PgServer server, String table) throws SQLException {
        try (Connection c = server.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                     + " FROM " + table + " t")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String donorOf(List<String> progress) {
        Matcher m = Pattern.compile("joining from (\\S+):").matcher(String.join("\n", progress));
        if (!m.find()) {
            throw new AssertionError("no donor in " + progress);
        }
        return m.group(1);
    }

    /** The next page of {@code table} the join has not loaded yet, from the joiner's bookkeeping. */
    private static long joinTablePage(PgServer server, String table) throws SQLException {
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("SELECT next_page FROM mirror.join_table WHERE tbl = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("no join progress for " + table);
                }
                return rs.getLong(1);
            }
        }
    }

    /** Rows the site held before it started mirroring: large enough to span many pages. */
    private static void seed(PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO customers (id, owner, name, balance, created, profile) SELECT 1000000000 + g, 'seed',"
                    + " 'customer ' || g, g * 1.25, now() - g * interval '1 minute', jsonb_build_object('n', g)"
                    + " FROM generate_series(1, 500) g");
            s.execute("INSERT INTO documents (id, owner, title, body, version) SELECT 1000000000 + g, 'seed', 'doc ' || g,"
                    + " repeat(md5(g::text), 8), 1 FROM generate_series(1, " + SEED_ROWS + ") g");
        }
    }

    /** Constraints and indexes of the mirrored tables, as definitions. */
    private static List<String> schemaObjects(PgServer server) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                     + "WHERE connamespace = 'public'::regnamespace UNION ALL SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                     + "WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace) ORDER BY 1")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
