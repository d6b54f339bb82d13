package org.activemirroring.mirror;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;

/**
 * One site's application for crash tests: small transactions, written continuously on its own
 * thread, each of which inserts a unique token (so whether it committed can always be told, even
 * when the database went away during COMMIT), and sometimes bumps one of this site's private
 * counters or deletes one of its earlier tokens. Keys are private per site, so concurrent writes
 * never touch the same row and the conflict rule has nothing to decide.
 *
 * <p>Remembers exactly what committed: the live tokens, the deleted ones, the counter values and
 * the number of transactions (which is what the site's capture must journal, one ChangeSet each).
 */
final class SiteWriter implements Runnable {
    static final int COUNTERS_PER_SITE = 20;
    private static final Duration RECONNECT_TIMEOUT = Duration.ofSeconds(90);

    private final PgServer server;
    private final int site;
    private final int sites;
    private final Random random;
    private final long pauseMs;
    private final Semaphore burst = new Semaphore(0);
    private volatile boolean stopping;
    private volatile Throwable failure;

    private final Map<Long, String> live = new HashMap<>();
    private final List<Long> liveIds = new ArrayList<>();
    private final List<Long> deleted = new ArrayList<>();
    private final long[] counters = new long[COUNTERS_PER_SITE];
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong inDoubt = new AtomicLong();
    private long nextK;

    /**
     * @param site    1-based site number; token ids are {@code site + sites * k}
     * @param pauseMs pause between transactions outside bursts
     */
    SiteWriter(PgServer server, int site, int sites, long seed, long pauseMs) {
        this.server = server;
        this.site = site;
        this.sites = sites;
        this.random = new Random(seed);
        this.pauseMs = pauseMs;
    }

    /** The schema every site starts with: the two tables and every site's counters at zero. */
    static void createSchema(PgServer server, int sites) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE tokens (id bigint PRIMARY KEY, site int NOT NULL, token uuid NOT NULL UNIQUE,"
                    + " note text, written timestamptz NOT NULL DEFAULT now())");
            s.execute("CREATE TABLE counters (id bigint PRIMARY KEY, site int NOT NULL, value bigint NOT NULL)");
            s.execute("INSERT INTO counters SELECT s * 1000 + i, s, 0 FROM generate_series(1, " + sites
                    + ") s, generate_series(0, " + (COUNTERS_PER_SITE - 1) + ") i");
        }
    }

    /** Asks for {@code count} transactions back to back, without the usual pause. */
    void burst(int count) {
        burst.release(count);
    }

    /** Transactions that committed; after {@link #stop} final. */
    long committed() {
        return committed.get();
    }

    /** Commits whose outcome was unknown at first (the database went away) and was then read back. */
    long inDoubt() {
        return inDoubt.get();
    }

    /** Writes until {@link #stop}; ends by one last transaction, so the final count includes it. */
    @Override
    public void run() {
        try {
            Connection c = null;
            while (!stopping) {
                if (c == null) {
                    c = reconnect();
                }
                c = oneTransaction(c);
                // Pacing of the load, not a wait for replication: a burst request ends it early.
                burst.tryAcquire(pauseMs, TimeUnit.MILLISECONDS);
            }
            if (c == null) {
                c = reconnect();
            }
            oneTransaction(c);
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = e;
        } catch (Throwable t) {
            failure = t;
        }
    }

    void stop() {
        stopping = true;
    }

    /** Null while writing; what stopped the writer otherwise. */
    Throwable failure() {
        return failure;
    }

    /** Commits one transaction; on a lost connection finds out whether it committed. Returns the connection to go on with. */
    private Connection oneTransaction(Connection c) throws SQLException {
        long id = site + (long) sites * (++nextK);
        String token = UUID.randomUUID().toString();
        int counter = random.nextInt(5) < 3 ? random.nextInt(COUNTERS_PER_SITE) : -1;
        Long delete = liveIds.size() > 5 && random.nextInt(10) == 0 ? liveIds.get(random.nextInt(liveIds.size())) : null;
        try {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tokens (id, site, token, note) VALUES (?, ?, ?::uuid, ?)")) {
                ps.setLong(1, id);
                ps.setInt(2, site);
                ps.setString(3, token);
                ps.setString(4, random.nextInt(4) == 0 ? null : "n".repeat(random.nextInt(300)));
                ps.executeUpdate();
            }
            if (counter >= 0) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE counters SET value = value + 1 WHERE id = ?")) {
                    ps.setLong(1, site * 1000L + counter);
                    if (ps.executeUpdate() != 1) {
                        throw new IllegalStateException("counter " + (site * 1000L + counter) + " missing on site " + site);
                    }
                }
            }
            if (delete != null) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM tokens WHERE id = ?")) {
                    ps.setLong(1, delete);
                    if (ps.executeUpdate() != 1) {
                        throw new IllegalStateException("token " + delete + " of site " + site + " vanished before its delete");
                    }
                }
            }
            c.commit();
        } catch (SQLException e) {
            // The database went away (a restart test): the transaction may or may not have
            // committed. Its token tells.
            closeQuietly(c);
            c = reconnect();
            if (!exists(c, id, token)) {
                return c;
            }
            inDoubt.incrementAndGet();
        }
        live.put(id, token);
        liveIds.add(id);
        if (counter >= 0) {
            counters[counter]++;
        }
        if (delete != null) {
            live.remove(delete);
            liveIds.remove(delete);
            deleted.add(delete);
        }
        committed.incrementAndGet();
        return c;
    }

    private static boolean exists(Connection c, long id, String token) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT token::text FROM tokens WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                if (!token.equals(rs.getString(1))) {
                    throw new IllegalStateException("token id " + id + " holds " + rs.getString(1) + ", written " + token);
                }
                return true;
            }
        }
    }

    private Connection reconnect() {
        AtomicReference<Connection> c = new AtomicReference<>();
        // While the site database restarts, connecting fails; Await retries until it works.
        Await.until(RECONNECT_TIMEOUT, () -> {
            c.set(server.connect());
            return true;
        }, () -> "site " + site + "'s database did not accept connections again");
        return c.get();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // Already broken.
        }
    }

    /**
     * Problems in one site's database against what this writer committed: a token missing or
     * different, a deleted token back, a counter with another value. Empty when all is there.
     */
    List<String> missingOn(PgServer where) throws SQLException {
        List<String> problems = new ArrayList<>();
        Map<Long, String> found = new HashMap<>();
        try (Connection c = where.connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT id, token::text FROM tokens WHERE site = " + site)) {
                while (rs.next()) {
                    found.put(rs.getLong(1), rs.getString(2));
                }
            }
            for (Map.Entry<Long, String> e : live.entrySet()) {
                if (!e.getValue().equals(found.get(e.getKey()))) {
                    problems.add("token " + e.getKey() + " of site " + site + " is " + found.get(e.getKey()));
                }
            }
            for (long id : deleted) {
                if (found.containsKey(id)) {
                    problems.add("token " + id + " of site " + site + " was deleted but exists");
                }
            }
            if (found.size() != live.size()) {
                problems.add(found.size() + " tokens of site " + site + ", " + live.size() + " committed and not deleted");
            }
            try (ResultSet rs = s.executeQuery("SELECT id - " + site * 1000L + ", value FROM counters WHERE site = " + site)) {
                while (rs.next()) {
                    int i = rs.getInt(1);
                    if (rs.getLong(2) != counters[i]) {
                        problems.add("counter " + i + " of site " + site + " is " + rs.getLong(2) + ", committed " + counters[i]);
                    }
                }
            }
        }
        return problems;
    }

    int deletedCount() {
        return deleted.size();
    }
}
