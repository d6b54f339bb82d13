package org.activemirroring.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a test N independent PostgreSQL servers with {@code wal_level=logical}.
 *
 * <p>Where they come from is chosen with {@code -Dit.db=auto|embedded|docker|external}:
 * <ul>
 *   <li>{@code embedded} (what {@code auto} tries first): zonky embedded binaries of PostgreSQL
 *       16, data under {@code target/it-work}; works as root.</li>
 *   <li>{@code docker}: Testcontainers, where a Docker engine runs.</li>
 *   <li>{@code external}: servers listed in the environment variable {@code AM_IT_PG}, as
 *       {@code host:port:user:password} entries separated by commas; the user must be able to
 *       create databases and replicate. Each test gets fresh databases, dropped at close.</li>
 * </ul>
 * If no source can start, {@link #start} throws with every reason: a test never skips.
 */
public final class PostgresServers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresServers.class);

    /**
     * Settings every server gets, for logical decoding by several mirrors and tests. fsync is off
     * (test data is thrown away) but synchronous_commit is on (the embedded default is off): with it off, WAL reaches logical
     * decoding only when the WAL writer flushes (every 200 ms), which would hide real latency.
     */
    static final String[][] SERVER_SETTINGS = {
            {"wal_level", "logical"},
            {"max_replication_slots", "20"},
            {"max_wal_senders", "20"},
            {"max_connections", "100"},
            {"fsync", "off"},
            {"synchronous_commit", "on"},
            {"track_commit_timestamp", "on"},
            {"full_page_writes", "off"},
            {"shared_buffers", "32MB"},
            {"listen_addresses", "127.0.0.1"},
    };

    /** Stops and starts one server in place (same port, same data); only some sources can. */
    interface ServerControl {
        void stop(boolean immediate) throws Exception;

        void start() throws Exception;
    }

    private final List<PgServer> servers;
    private final List<AutoCloseable> resources;
    /** One per server, or empty when the source cannot restart its servers. */
    private final List<ServerControl> controls;

    private PostgresServers(List<PgServer> servers, List<AutoCloseable> resources, List<ServerControl> controls) {
        this.servers = List.copyOf(servers);
        this.resources = resources;
        this.controls = List.copyOf(controls);
    }

    /** Starts {@code count} servers named {@code label-1..N}, from the source {@code it.db} selects. */
    public static PostgresServers start(String label, int count) {
        String mode = System.getProperty("it.db", "auto").trim().toLowerCase(Locale.ROOT);
        List<String> failures = new ArrayList<>();
        for (String source : sources(mode)) {
            try {
                return switch (source) {
                    case "embedded" -> EmbeddedSource.start(label, count, workDir());
                    case "docker" -> DockerSource.start(label, count);
                    case "external" -> ExternalSource.start(label, count);
                    default -> throw new IllegalStateException("unreachable");
                };
            } catch (Exception | LinkageError e) {
                LOG.warn("PostgreSQL source '{}' could not start: {}", source, e.toString());
                failures.add(source + ": " + e);
            }
        }
        throw new IllegalStateException("No PostgreSQL server could be started for the tests (it.db=" + mode + "). "
                + "Tried " + String.join("; ", failures)
                + ". Fix the cause above, or choose a source with -Dit.db=embedded|docker|external "
                + "(external reads servers from AM_IT_PG=host:port:user:password,...).");
    }

    private static List<String> sources(String mode) {
        return switch (mode) {
            case "auto" -> System.getenv("AM_IT_PG") != null
                    ? List.of("embedded", "docker", "external") : List.of("embedded", "docker");
            case "embedded", "docker", "external" -> List.of(mode);
            default -> throw new IllegalArgumentException("Invalid value '" + mode
                    + "' for it.db: use auto, embedded, docker or external");
        };
    }

    /** Where tests keep their files: {@code it.work.dir}, else {@code target/it-work}. */
    public static Path workDir() {
        Path dir = Path.of(System.getProperty("it.work.dir", "target/it-work")).toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot create test work directory " + dir + ": " + e, e);
        }
        return dir;
    }

    public List<PgServer> servers() {
        return servers;
    }

    public PgServer get(int index) {
        return servers.get(index);
    }

    /**
     * Shuts server {@code index} down and returns once it is down: in fast mode (open sessions are
     * cut, a shutdown checkpoint is written; PostgreSQL waits for its WAL senders to have their
     * clients confirm everything), or immediately (like a crash; recovery on the next start).
     * Only embedded servers can; others throw.
     */
    public void stopServer(int index, boolean immediate) throws Exception {
        control(index).stop(immediate);
    }

    /** Starts server {@code index} again after {@link #stopServer}: same port, same data. */
    public void startServer(int index) throws Exception {
        control(index).start();
    }

    private ServerControl control(int index) {
        if (controls.isEmpty()) {
            throw new UnsupportedOperationException("Restarting a test PostgreSQL server needs embedded servers;"
                    + " run with -Dit.db=embedded");
        }
        return controls.get(index);
    }

    /** Stops every server this object started (or drops the databases it made on external ones). */
    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("Could not stop test PostgreSQL resource: {}", e.toString());
            }
        }
    }

    static PostgresServers of(List<PgServer> servers, List<AutoCloseable> resources) {
        return new PostgresServers(servers, resources, List.of());
    }

    static PostgresServers of(List<PgServer> servers, List<AutoCloseable> resources, List<ServerControl> controls) {
        return new PostgresServers(servers, resources, controls);
    }

    /** Creates a fresh database on a server through its maintenance database. */
    static void createDatabase(String url, String user, String password, String database) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE \"" + database + "\"");
        }
    }

    static String uniqueDatabaseName(String label) {
        return ("it_" + label + "_" + UUID.randomUUID().toString().substring(0, 8)).replace('-', '_')
                .toLowerCase(Locale.ROOT);
    }
}
