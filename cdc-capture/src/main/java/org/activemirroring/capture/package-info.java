/**
 * Capture of this mirror's own database transactions into
 * {@link org.activemirroring.change.ChangeSet}s:
 * {@link org.activemirroring.capture.DebeziumCapture} runs the Debezium engine,
 * {@link org.activemirroring.capture.TransactionAssembler} and
 * {@link org.activemirroring.capture.RowChangeConverter} turn its records into ChangeSets,
 * {@link org.activemirroring.capture.CaptureVersioner} stamps their row versions, and
 * {@link org.activemirroring.capture.EchoPolicy} drops what the applier wrote. Debezium is the
 * capture technology for every database; what is specific to one (its connector's settings, the
 * preflight, bookkeeping, schema-change capture, the heartbeat table, its events' source fields)
 * comes from the dialect's {@link org.activemirroring.db.CaptureSource}, so no class here names
 * a PostgreSQL type. The module's configuration,
 * {@link org.activemirroring.capture.CaptureConfig}, lives here too; it still accepts only
 * {@code jdbc:postgresql://} URLs and has PostgreSQL's slot, publication and origin-filter
 * settings. Its sibling packages hold the rest of the module: {@code change} (the ChangeSet model), {@code apply},
 * {@code db} (what a database must provide), {@code postgres}, {@code join}, {@code sequences},
 * {@code schema} and {@code versions}.
 *
 * <p>Wiring in a node (PostgreSQL):
 * <pre>{@code
 * List<String> problems = new ArrayList<>();
 * CaptureConfig cfg = CaptureConfig.from(settings, problems);      // + TransportConfig, ...
 * if (!problems.isEmpty()) throw new ConfigException(problems);
 *
 * SequenceKeeper sequences = SequenceKeeper.start(cfg, nodeId, new PostgresSequences());   // keys interleave by mirror.node.slot
 * Dialect dialect = new PostgresDialect();
 * ChangeSetApplier applier = new ChangeSetApplier(cfg, dialect);
 * transport.start(applier, applier.appliedVector());               // remote ChangeSets -> local DB
 *
 * DebeziumCapture capture = new DebeziumCapture(cfg, nodeId, dataDir, transport,
 *         EchoPolicy.forDialect(dialect), dialect);
 * capture.start();                                                 // local commits -> transport.publish
 * ...
 * capture.stats(); applier.stats(); capture.isRunning(); capture.failure();
 * ...
 * capture.close(); transport.close(); applier.close(); sequences.close();
 * }</pre>
 *
 * <p>Loop prevention: the applier tags its session with a PostgreSQL replication origin, capture
 * drops transactions carrying it ({@link org.activemirroring.capture.EchoPolicy}).
 * Which tables are mirrored is decided in one place, {@link org.activemirroring.schema.MirroredTables}.
 * A joining mirror's own rows from before its join are kept by {@link org.activemirroring.join.JoinStash}.
 * Schema changes are recorded by an event trigger and replayed in order with the rows by
 * {@link org.activemirroring.postgres.DdlReplication}.
 * A mirror needs no superuser: {@link org.activemirroring.postgres.MirrorRoleSql} prints the SQL
 * that makes its role, and {@link org.activemirroring.postgres.PrivilegeCheck} names what such a
 * role lacks before the mirror starts.
 * Exactly-once effect: the applier commits each ChangeSet together with the origin's applied seq
 * in {@code mirror.applied}; capture advances its offsets only after publishing and recognises
 * Debezium's replays by source txId in the node's journal tail.
 */
package org.activemirroring.capture;
