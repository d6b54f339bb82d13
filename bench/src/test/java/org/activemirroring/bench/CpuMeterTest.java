package org.activemirroring.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
    }
}
