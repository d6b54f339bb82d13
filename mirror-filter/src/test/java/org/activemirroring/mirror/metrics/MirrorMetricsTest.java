package org.activemirroring.mirror.metrics;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;

import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

/** The meters without a running node, the seam for counters of other parts, and JMX registration. */
class MirrorMetricsTest {

    @Test
    void limitsHitAreCountedPerLimitAndShownBeforeANodeRuns() {
        try (MirrorMetrics metrics = new MirrorMetrics("web-1", () -> null)) {
            metrics.limitHit("writes");
            metrics.limitHit("writes");
            metrics.limitHit("upload-bytes");
            String text = metrics.scrape();
            assertTrue(text.contains("mirror_limits_hit_total{limit=\"writes\",mirror=\"web-1\"} 2.0"), text);
            assertTrue(text.contains("mirror_limits_hit_total{limit=\"upload-bytes\",mirror=\"web-1\"} 1.0"), text);
            assertTrue(text.contains("mirror_ready{mirror=\"web-1\"} 0.0"), text);
            assertTrue(text.contains("mirror_applied_total{mirror=\"web-1\"} 0.0"), text);
            assertTrue(text.contains("# HELP mirror_origin") == false, "no origins before a node reports them");
        }
    }

    @Test
    void theSameMirrorTwiceInOneJvmAndItsMBeansGoOnClose() throws Exception {
        var server = ManagementFactory.getPlatformMBeanServer();
        ObjectName ours = new ObjectName(MirrorMetrics.JMX_DOMAIN + ":name=mirrorReady.mirror.web-2,*");
        try (MirrorMetrics first = new MirrorMetrics("web-2", () -> null)) {
            assertFalse(server.queryNames(ours, null).isEmpty(), "registered over JMX");
            try (MirrorMetrics second = new MirrorMetrics("web-2", () -> null)) {
                second.limitHit("writes"); // a second registry for the same id (a restart overlapping) works
                assertTrue(second.scrape().contains("mirror_limits_hit_total"));
            }
        }
        assertTrue(server.queryNames(ours, null).isEmpty(), "unregistered on close");
    }
}
