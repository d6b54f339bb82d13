/**
 * A mirror's meters (Micrometer): one registry per mirror node, read from the node's status as
 * Prometheus text ({@code /_mirror/metrics}) and as JMX MBeans under {@code org.activemirroring};
 * the seam through which other parts (flood control) count what they do.
 */
package org.activemirroring.mirror.metrics;
