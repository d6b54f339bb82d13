package org.activemirroring.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/** PostgreSQL 16 from zonky's embedded binaries; as root they run under {@code unshare -U}. */
final class EmbeddedSource {
    private EmbeddedSource() {
    }

    static PostgresServers start(String label, int count, Path workDir) throws Exception {
        List<PgServer> servers = new ArrayList<>();
        List<AutoCloseable> running = new ArrayList<>();
        List<PostgresServers.ServerControl> controls = new ArrayList<>();
        Path binaries = workDir.resolve("pg-binaries");
        Files.createDirectories(binaries);
        try {
            for (int i = 1; i <= count; i++) {
                String name = label + "-" + i;
                Path data = workDir.resolve("pg").resolve(name + "-" + ProcessHandle.current().pid());
                Files.createDirectories(data.getParent());
                EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                        .setOverrideWorkingDirectory(binaries.toFile())
                        .setDataDirectory(data.toFile())
                        .setCleanDataDirectory(true)
                        .setRegisterShutdownHook(true)
                        .setPGStartupWait(java.time.Duration.ofSeconds(60));
                for (String[] kv : PostgresServers.SERVER_SETTINGS) {
                    builder.setServerConfig(kv[0], kv[1]);
                }
                EmbeddedPostgres pg = builder.start();
                running.add(pg);
                controls.add(EmbeddedServerControl.of(data));
                String database = PostgresServers.uniqueDatabaseName(label);
                PostgresServers.createDatabase(pg.getJdbcUrl("postgres", "postgres"), "postgres", "", database);
                servers.add(new PgServer(name, "127.0.0.1", pg.getPort(), database, "postgres", ""));
            }
        } catch (Exception | Error e) {
            for (AutoCloseable r : running) {
                try {
                    r.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return PostgresServers.of(servers, running, controls);
    }

}
