package org.activemirroring.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuMeterTest {

    @Test
    void readsParentAndTimesPastACommandNameWithSpacesAndParentheses(@TempDir Path dir) throws Exception {
        Path stat = dir.resolve("stat");
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        Files.writeString(stat, "4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 "
                + "123 456 789\n");
        assertArrayEquals(new long[] {17, 300, 10}, CpuMeter.stat(stat));
        assertNull(CpuMeter.stat(dir.resolve("gone")), "a process that exited reads as absent");
    }

    @Test
    void addsUpOnlyTheJitCompilerThreads(@TempDir Path dir) throws Exception {
        String rest = " S 1 1 1 0 -1 0 0 0 0 0 %d %d 0 0 20 0 1 0 5 6 7\n";
        for (String[] t : new String[][] {{"11", "C2 CompilerThre", "40", "2"}, {"12", "C1 CompilerThre", "5", "1"},
                {"13", "am-transport-be", "900", "90"}, {"14", "GC Thread#0", "70", "0"}}) {
            Path task = Files.createDirectories(dir.resolve("task").resolve(t[0]));
            Files.writeString(task.resolve("stat"), t[0] + " (" + t[1] + ")"
                    + String.format(rest, Long.parseLong(t[2]), Long.parseLong(t[3])));
        }
        assertEquals(48, CpuMeter.jitTicks(dir));
        assertEquals(0, CpuMeter.jitTicks(dir.resolve("gone")), "a process that exited has no threads");
    }

    @Test
    void countsTheCpuThisProcessBurns() {
        assertTrue(CpuMeter.available(), "the benchmarks read CPU times from /proc (Linux)");
        CpuMeter meter = new CpuMeter().self("this JVM");
        CpuMeter.Snapshot before = meter.snapshot();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = threads.getCurrentThreadCpuTime();
        long spin = 0;
        while (threads.getCurrentThreadCpuTime() - start < 400_000_000L) {
            spin += Long.numberOfTrailingZeros(spin + System.nanoTime());
        }
        CpuMeter.Usage used = CpuMeter.between(before, meter.snapshot());
        double seconds = used.seconds().get("this JVM");
        assertTrue(seconds >= 0.3, "burned 0.4 s of CPU, measured " + seconds + " s (" + spin + ")");
        assertTrue(used.machineCores() > 0, "the machine was busy meanwhile");
        assertTrue(used.jit() >= 0 && used.jit() <= seconds, "the JIT's share is part of the JVM's: " + used.jit());
    }
}
