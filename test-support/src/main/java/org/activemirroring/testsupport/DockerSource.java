package org.activemirroring.testsupport;

import java.util.ArrayList;
import java.util.List;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** PostgreSQL 16 in containers, where a Docker engine runs. */
final class DockerSource {
    private DockerSource() {
    }

    static PostgresServers start(String label, int count) {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new IllegalStateException("no Docker engine is reachable");
        }
        List<PgServer> servers = new ArrayList<>();
        List<AutoCloseable> running = new ArrayList<>();
        try {
            for (int i = 1; i <= count; i++) {
                PostgreSQLContainer pg = new PostgreSQLContainer("postgres:16")
                        .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=20",
                                "-c", "max_wal_senders=20", "-c", "fsync=off",
                                "-c", "track_commit_timestamp=on");
                pg.start();
                running.add(pg::stop);
                servers.add(new PgServer(label + "-" + i, pg.getHost(), pg.getFirstMappedPort(), pg.getDatabaseName(),
                        pg.getUsername(), pg.getPassword()));
            }
        } catch (RuntimeException e) {
            running.forEach(r -> {
                try {
                    r.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            });
            throw e;
        }
        return PostgresServers.of(servers, running);
    }
}
