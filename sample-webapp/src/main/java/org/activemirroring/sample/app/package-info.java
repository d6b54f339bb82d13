/**
 * Start and stop of the site: its configuration from JNDI ({@link org.activemirroring.sample.app.SiteConfig}),
 * migrations and the entity manager factory ({@link org.activemirroring.sample.app.Database}), the
 * page templates ({@link org.activemirroring.sample.app.Pages}), the services every request uses
 * ({@link org.activemirroring.sample.app.Site}) and the hook into the mirror it may run in
 * ({@link org.activemirroring.sample.app.SiteStartup}).
 */
package org.activemirroring.sample.app;
