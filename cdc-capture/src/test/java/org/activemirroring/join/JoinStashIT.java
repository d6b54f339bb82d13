package org.activemirroring.join;

import static org.activemirroring.capture.Fixtures.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.Fixtures;
import org.activemirroring.postgres.PostgresBulkCopy;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.postgres.PostgresRowStash;
import org.activemirroring.postgres.PostgresSchemaCopy;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Rows a joining mirror's site wrote before the join, on a real PostgreSQL: moved aside, then put
 * back where they do not contradict the network, every other one in the conflict log, parents
 * before children, each row once.
 */
class JoinStashIT {

    @Test
    void stashedRowsComeBackOrGoToTheConflictLog() throws Exception {
        try (PostgresServers servers = PostgresServers.start("stash", 1)) {
            PgServer pg = servers.get(0);
            CaptureConfig config = Fixtures.config(pg);
            PostgresDialect dialect = new PostgresDialect();
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                dialect.createBookkeeping(c);
                new PostgresRowStash().createStorage(c);
                // Child first by name: restore must still take the parent first.
                s.execute("CREATE TABLE a_child (id int PRIMARY KEY, parent int NOT NULL)");
                s.execute("CREATE TABLE z_parent (id int PRIMARY KEY, name text NOT NULL UNIQUE,"
                        + " n int GENERATED ALWAYS AS IDENTITY)");
                s.execute("ALTER TABLE a_child ADD FOREIGN KEY (parent) REFERENCES z_parent (id)");
                // What the site wrote before the join.
                s.execute("INSERT INTO z_parent (id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'seed'), (2, 'mine'),"
                        + " (3, 'edited'), (4, 'taken')");
                s.execute("INSERT INTO a_child VALUES (10, 2), (11, 1)");
            }
            try (Connection c = pg.connect()) {
                c.setAutoCommit(false);
                dialect.prepareApplySession(c);
                assertEquals(2, new PostgresRowStash().stashAll(c, "public.a_child"));
                assertEquals(4, new PostgresRowStash().stashAll(c, "public.z_parent"));
                c.commit();
            }
            assertEquals(6, new JoinStash(config, dialect, new PostgresRowStash(), "me").pending());
            // What the join loaded from the network: the seed as it is, 'edited' otherwise, and
            // another row holding the name 'taken'.
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO z_parent (id, name, n) OVERRIDING SYSTEM VALUE VALUES (1, 'seed', 1),"
                        + " (3, 'edited elsewhere', 3), (7, 'taken', 7)");
                s.execute("INSERT INTO a_child VALUES (11, 1)");
            }
            JoinStash.Outcome o = new JoinStash(config, dialect, new PostgresRowStash(), "me").restore("donor");
            assertEquals(new JoinStash.Outcome(2, 2, 2), o, o.toString());
            assertEquals(List.of("1:seed", "2:mine", "3:edited elsewhere", "7:taken"),
                    rows(pg, "SELECT id || ':' || name FROM z_parent ORDER BY id"));
            assertEquals(List.of("10:2", "11:1"), rows(pg, "SELECT id || ':' || parent FROM a_child ORDER BY id"));
            assertEquals(List.of("join:public.z_parent:edited:edited elsewhere:donor",
                            "join:public.z_parent:taken::donor"),
                    rows(pg, "SELECT kind || ':' || tbl || ':' || (loser_row->>'name') || ':' || coalesce(winner_row->>'name',"
                            + " '') || ':' || winner_origin FROM mirror.conflict ORDER BY id"));
            assertEquals(0, new JoinStash(config, dialect, new PostgresRowStash(), "me").pending());
            // A second restore finds nothing: every row was handled once.
            assertEquals(new JoinStash.Outcome(0, 0, 0),
                    new JoinStash(config, dialect, new PostgresRowStash(), "me").restore("donor"));
        }
    }

    /**
     * What the site's own jobs wrote while the mirror joined, which capture never saw, is found by
     * its commit origin and time and sent to the network; the join's loaded rows and rows written
     * before the join stay as they are.
     */
    @Test
    void siteWritesDuringTheJoinAreSweptAndPutBack() throws Exception {
        try (PostgresServers servers = PostgresServers.start("sweep", 1)) {
            PgServer pg = servers.get(0);
            CaptureConfig config = Fixtures.config(pg);
            PostgresDialect dialect = new PostgresDialect();
            JoinSink sink = new JoinSink(config, dialect, new PostgresSchemaCopy(), new PostgresBulkCopy(),
                    new PostgresRowStash(), "me");
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                dialect.createBookkeeping(c);
                s.execute("CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL)");
                s.execute("INSERT INTO items VALUES (1, 'before the join')");
            }
            sink.state(); // creates the bookkeeping
            sink.markLoading();
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                dialect.prepareApplySession(c);
                s.execute("INSERT INTO items VALUES (2, 'loaded by the join')");
            }
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO items VALUES (3, 'a site job meanwhile')");
                s.execute("UPDATE mirror.join_state SET status = 'complete'");
            }
            JoinStash stash = new JoinStash(config, dialect, new PostgresRowStash(), "me");
            assertEquals(1, stash.sweepUncaptured());
            assertEquals(List.of("1", "2"), rows(pg, "SELECT id FROM items ORDER BY id"));
            assertEquals(-1, stash.sweepUncaptured(), "a join is swept once");
            assertEquals(new JoinStash.Outcome(0, 1, 0), stash.restore("donor"));
            assertEquals(List.of("1", "2", "3"), rows(pg, "SELECT id FROM items ORDER BY id"));
            // the row went back as a write of the site's kind: no replication origin
            assertEquals(List.of("0"), rows(pg, "SELECT x.roident FROM items t, pg_xact_commit_timestamp_origin(t.xmin) x"
                    + " WHERE t.id = 3"));
        }
    }
}
