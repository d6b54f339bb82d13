package org.activemirroring.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.testsupport.PostgresServers;

/**
 * What an idle mirror costs: {@code bench/run idle [--seconds 20] [--mirrors 2]}. Starts the
 * mirrors in this JVM, lets them sit with nothing to replicate, and measures this JVM's CPU time
 * (and each thread's) over {@code --seconds}. A site's quiet hours should cost its Tomcat next to
 * nothing; the goal is stated in BENCHMARKS.md, not asserted.
 */
final class IdleBenchmark {
    private IdleBenchmark() {
    }

    static Map<String, Object> run(int mirrors, int seconds) throws Exception {
        if (seconds < 1) {
            throw new IllegalArgumentException("--seconds must be at least 1, was " + seconds);
        }
        try (PostgresServers pgs = BenchMain.startServers(mirrors)) {
            List<MirrorNode> nodes = BenchMain.startMirrors(pgs.servers());
            try {
                BenchMain.awaitWarmUp(pgs.servers());
                ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                // A settling second: start-up work (JIT, first heartbeats) is not idle cost.
                Thread.sleep(2000);
                BenchMain.say("Idle: " + mirrors + " mirrors, nothing to replicate, " + seconds + " s ...");
                Map<Long, Long> before = new HashMap<>();
                for (long id : threads.getAllThreadIds()) {
                    before.put(id, threads.getThreadCpuTime(id));
                }
                long cpu0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                Thread.sleep(seconds * 1000L);
                double wall = (System.nanoTime() - t0) / 1e9;
                double processPct = (os.getProcessCpuTime() - cpu0) / 1e9 / wall * 100;
                Map<String, Double> byThread = new LinkedHashMap<>();
                List<Map.Entry<String, Double>> sorted = new ArrayList<>();
                for (ThreadInfo ti : threads.getThreadInfo(threads.getAllThreadIds())) {
                    if (ti == null) {
                        continue;
                    }
                    long now = threads.getThreadCpuTime(ti.getThreadId());
                    double pct = (now - before.getOrDefault(ti.getThreadId(), 0L)) / 1e9 / wall * 100;
                    if (pct >= 0.1) {
                        sorted.add(Map.entry(ti.getThreadName(), pct));
                    }
                }
                sorted.sort(Map.Entry.<String, Double>comparingByValue().reversed());
                sorted.forEach(e -> byThread.put(e.getKey(), round(e.getValue())));
                double perMirror = processPct / mirrors;
                BenchMain.say(String.format(Locale.ROOT, "  this JVM: %.1f%% of a core in all, %.1f%% per mirror"
                        + " (JIT and GC threads included)", processPct, perMirror));
                sorted.stream().limit(10).forEach(e -> BenchMain.say(String.format(Locale.ROOT, "    %5.1f%%  %s",
                        e.getValue(), e.getKey())));
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("kind", "idle");
                r.put("mirrors", mirrors);
                r.put("seconds", seconds);
                r.put("process_cpu_percent", round(processPct));
                r.put("threads_cpu_percent", byThread);
                r.put("RESULT", String.format(Locale.ROOT, "RESULT idle mirrors=%d cpu_percent_per_mirror=%.1f",
                        mirrors, perMirror));
                return r;
            } finally {
                BenchMain.closeAll(nodes);
            }
        }
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
