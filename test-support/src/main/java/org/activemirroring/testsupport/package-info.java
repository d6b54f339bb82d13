/**
 * What the modules' tests and the benchmarks share, so each has it once: real PostgreSQL servers
 * (embedded binaries, Docker or an external server; {@link
 * org.activemirroring.testsupport.PostgresServers}), a mirror's settings on free ports of
 * 127.0.0.1 ({@link org.activemirroring.testsupport.MirrorSettings}), waiting on a condition with
 * a deadline ({@link org.activemirroring.testsupport.Await}), SQL of the test sites, and a
 * visitor's browser on the sample site ({@link org.activemirroring.testsupport.SiteBrowser}).
 * Never part of the plugin.
 */
package org.activemirroring.testsupport;
