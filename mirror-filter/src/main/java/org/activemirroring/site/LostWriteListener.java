package org.activemirroring.site;

/**
 * Told of a write of this mirror's site that lost under the conflict rule (see
 * {@link MirrorSite#onLostWrite}). Called on a thread of the mirror, never on a request thread;
 * it may write to the site's database (that is a new write and replicates like any other).
 */
@FunctionalInterface
public interface LostWriteListener {
    /**
     * @throws Exception to be told again later (for example while the database is away)
     */
    void lost(LostWrite write) throws Exception;
}
