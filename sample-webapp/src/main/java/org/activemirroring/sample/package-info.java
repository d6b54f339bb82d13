/**
 * The sample site: a small community archive of cultural-heritage items that runs mirrored. It is
 * the plugin's demo and end-to-end fixture, written like an ordinary site (Hibernate, a pooled
 * data source from JNDI, Flyway migrations at every start, server-rendered pages) that knows of
 * the mirror only through {@code org.activemirroring.site}.
 */
package org.activemirroring.sample;
