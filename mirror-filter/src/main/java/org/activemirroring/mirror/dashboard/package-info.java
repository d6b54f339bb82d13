/**
 * The operator's dashboard at {@code /_mirror/}: one HTML page and the JSON it polls.
 *
 * <p>Owns what the dashboard knows beyond one mirror's status: the facts each mirror tells the
 * others on request ({@link MirrorFacts}, answered by {@link LocalFacts} under the transport kind
 * {@value LocalFacts#KIND}), which of its own writes touched which table or folder last
 * ({@link WriteIndex}, read from the mirror's own journal), the view of the whole network
 * ({@link NetworkView}), survivability per table and folder ({@link Survivability}), the lag
 * history behind the live chart ({@link LagHistory}) and the page itself
 * ({@link DashboardEndpoint}). Access control stays with the admin pages: every path here is
 * admin-only.
 */
package org.activemirroring.mirror.dashboard;
