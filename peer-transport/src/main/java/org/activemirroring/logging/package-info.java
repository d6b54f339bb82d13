/**
 * The logging context of a mirror: which mirror a log line belongs to travels in the SLF4J MDC
 * under {@link org.activemirroring.logging.LogContext#MIRROR}, set on every thread a mirror starts
 * and where threads of Debezium and JGroups enter the mirror's code, so that no message has to name
 * its mirror by hand.
 */
package org.activemirroring.logging;
