/**
 * What the filter does for a site's visitors at the edge of each mirror, beside the readiness gate:
 * read-your-writes across mirrors ({@link org.activemirroring.mirror.edge.ReadYourWrites}: a cookie
 * after a write, a bounded wait on a mirror that has not applied that far), forwarding requests of
 * a mirror that is not ready to a ready peer ({@link org.activemirroring.mirror.edge.UnreadyForwarder}),
 * and flood control per client ({@link org.activemirroring.mirror.edge.FloodControl}). Their options
 * are {@link org.activemirroring.mirror.edge.EdgeOptions}; {@code MirrorFilter} calls only
 * {@link org.activemirroring.mirror.edge.EdgeGate}.
 */
package org.activemirroring.mirror.edge;
