package org.activemirroring.capture;

import java.util.Objects;

import org.activemirroring.db.Dialect;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/**
 * Loop prevention, in one place (like MirrorMaker 2's {@code ReplicationPolicy}): decides whether
 * a captured change was written by this mirror's own applier, i.e. is the echo of a peer's change
 * that must not be sent out again.
 *
 * <p>PostgreSQL: the applier's session is set up with a replication origin
 * ({@link Dialect#applyOriginName()}); pgoutput then tags every change of its transactions with
 * that origin and Debezium exposes it as {@code source.origin}. A change is an echo exactly when
 * that field equals the applier's origin name. A change from any other origin (say, PostgreSQL's
 * own logical replication into this database) is not ours, so it is mirrored.
 *
 * <p>Immutable and thread-safe.
 */
public final class EchoPolicy {

    private final String applyOrigin;

    /** @param applyOrigin the replication origin name the applier tags its writes with; not null */
    public EchoPolicy(String applyOrigin) {
        this.applyOrigin = Objects.requireNonNull(applyOrigin, "applyOrigin");
        if (applyOrigin.isBlank()) {
            throw new IllegalArgumentException("the applier's origin name must not be blank");
        }
    }

    /** The policy matching the applier of {@code dialect}. */
    public static EchoPolicy forDialect(Dialect dialect) {
        return new EchoPolicy(dialect.applyOriginName());
    }

    public String applyOrigin() {
        return applyOrigin;
    }

    /**
     * Whether a change whose source carries {@code sourceOrigin} came from our applier.
     *
     * @param sourceOrigin the replication origin of the change; null when the writer had none
     */
    public boolean isEcho(String sourceOrigin) {
        // The applier's origin, and the names derived from it for capture's repairs.
        return sourceOrigin != null && (applyOrigin.equals(sourceOrigin) || sourceOrigin.startsWith(applyOrigin + "_"));
    }

    /**
     * Whether a Debezium change event with this {@code source} block came from our applier.
     * A source block without an origin field (a connector that does not report origins) is never
     * an echo by this policy.
     *
     * @param originField the source block's field holding the origin name (see
     *                    {@link org.activemirroring.db.CaptureSource#eventFields}); null when the
     *                    connector has none
     */
    public boolean isEcho(Struct source, String originField) {
        if (source == null || originField == null) {
            return false;
        }
        Field f = source.schema().field(originField);
        return f != null && isEcho(source.getString(originField));
    }
}
