/**
 * Capture of this mirror's database transactions into {@link org.activemirroring.capture.ChangeSet}s,
 * and the applier of other mirrors' ChangeSets.
 *
 * <p>Wiring in a node (PostgreSQL):
 * <pre>{@code
 * List<String> problems = new ArrayList<>();
 * CaptureConfig cfg = CaptureConfig.from(settings, problems);      // + TransportConfig, ...
 * if (!problems.isEmpty()) throw new ConfigException(problems);
 *
 * SequenceKeeper sequences = SequenceKeeper.start(cfg, nodeId);   // keys interleave by mirror.node.slot
 * Dialect dialect = new PostgresDialect();
 * ChangeSetApplier applier = new ChangeSetApplier(cfg, dialect);
 * transport.start(applier, applier.appliedVector());               // remote ChangeSets -> local DB
 *
 * DebeziumCapture capture = new DebeziumCapture(cfg, nodeId, dataDir, transport,
 *         EchoPolicy.forDialect(dialect));
 * capture.start();                                                 // local commits -> transport.publish
 * ...
 * capture.stats(); applier.stats(); capture.isRunning(); capture.failure();
 * ...
 * capture.close(); transport.close(); applier.close(); sequences.close();
 * }</pre>
 *
 * <p>Loop prevention: the applier tags its session with a PostgreSQL replication origin, capture
 * drops transactions carrying it ({@link org.activemirroring.capture.EchoPolicy}).
 * Which tables are mirrored is decided in one place, {@link org.activemirroring.capture.MirroredTables}.
 * A joining mirror's own rows from before its join are kept by {@link org.activemirroring.capture.JoinStash}.
 * Schema changes are recorded by an event trigger and replayed in order with the rows by
 * {@link org.activemirroring.capture.DdlReplication}.
 * A mirror needs no superuser: {@link org.activemirroring.capture.MirrorRoleSql} prints the SQL
 * that makes its role, and {@link org.activemirroring.capture.PrivilegeCheck} names what such a
 * role lacks before the mirror starts.
 * Exactly-once effect: the applier commits each ChangeSet together with the origin's applied seq
 * in {@code mirror.applied}; capture advances its offsets only after publishing and recognises
 * Debezium's replays by source txId in the node's journal tail.
 */
package org.activemirroring.capture;
