/**
 * Real Tomcat servers for end-to-end tests, the demo and {@code start-mirrors.sh}: the distribution
 * ({@link org.activemirroring.testsupport.tomcat.TomcatDistribution}), one {@code CATALINA_BASE}
 * per instance laid out from the {@code tomcat-conf/} templates
 * ({@link org.activemirroring.testsupport.tomcat.CatalinaBase}), the Tomcat process and its
 * lifecycle ({@link org.activemirroring.testsupport.tomcat.TomcatInstance}), its log
 * ({@link org.activemirroring.testsupport.tomcat.TomcatLog}) and its threads
 * ({@link org.activemirroring.testsupport.tomcat.ThreadDump}). Everything listens on 127.0.0.1
 * only; every process started here is stopped by its owner's {@code close()}, and by a JVM
 * shutdown hook if the owner never gets there.
 */
package org.activemirroring.testsupport.tomcat;
