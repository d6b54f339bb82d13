package org.activemirroring.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.activemirroring.testsupport.PgServer;

/**
 * CPU time of the processes a benchmark runs, by role ("mirror 1 JVM", "mirror 1 PostgreSQL",
 * "raw capture PostgreSQL", ...), read from Linux's {@code /proc} between two snapshots, with the
 * whole machine's busy time beside them. A PostgreSQL server counts its postmaster and every
 * backend: live ones from their own counters, exited ones through the postmaster's counters of
 * reaped children, so a short-lived connection is counted too.
 *
 * <p>It answers what a rate alone cannot: how much of the machine each system used to carry its
 * rows, and so what rate its CPU cost per row allows on this machine at all. On a system without
 * {@code /proc} it reports nothing ({@link #available()}).
 */
final class CpuMeter {
    /** Clock ticks per second of {@code /proc} times; 100 on every Linux this runs on. */
    private static final double TICKS_PER_SECOND = 100.0;
    private static final Path PROC = Path.of("/proc");

    private record Role(String name, long pid, boolean tree) {
    }

    /** Thread names of HotSpot's JIT compilers, as Linux shows them (15 characters at most). */
    private static final String[] JIT_THREADS = {"C1 CompilerThre", "C2 CompilerThre"};

    /** CPU ticks per role (and of a JVM's JIT compiler threads), and the machine's busy and total ticks, at one moment. */
    record Snapshot(Map<String, Long> ticks, Map<String, Long> jitTicks, long machineBusy, long machineTotal,
                    long nanos) {
    }

    /**
     * What the roles used between two snapshots.
     *
     * @param seconds      CPU seconds per role, in the order the roles were added
     * @param jitSeconds   of those, per JVM role, the seconds its JIT compiler threads used
     * @param machineCores the machine's busy time over the wall time: cores in use by everything
     * @param wallSeconds  the wall time between the snapshots
     */
    record Usage(Map<String, Double> seconds, Map<String, Double> jitSeconds, double machineCores,
                 double wallSeconds) {
        double total() {
            return seconds.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        /** CPU seconds the JVMs spent compiling: what a JVM running for long pays no more. */
        double jit() {
            return jitSeconds.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        /** Microseconds of CPU per row without the JIT's compiling. */
        double microsPerRowWithoutJit(long rows) {
            return (total() - jit()) * 1e6 / rows;
        }

        /** Microseconds of CPU per row, all roles together. */
        double microsPerRow(long rows) {
            return total() * 1e6 / rows;
        }

        /** One line: total, per row, and the roles that used at least 0.05 s. */
        String summary(long rows) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "cpu %.2f s (%.1f us/row, %.2f of %d cores busy; JIT compiling %.2f s of it)", total(),
                    microsPerRow(rows), machineCores, Runtime.getRuntime().availableProcessors(), jit()));
            seconds.forEach((role, s) -> {
                if (s >= 0.05) {
                    sb.append(String.format(Locale.ROOT, "; %s %.2f", role, s));
                }
            });
            return sb.toString();
        }

        Map<String, Object> toJson(long rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cpu_seconds", seconds);
            m.put("cpu_seconds_total", total());
            m.put("jit_cpu_seconds", jitSeconds);
            m.put("jit_cpu_seconds_total", jit());
            m.put("cpu_us_per_row", microsPerRow(rows));
            m.put("machine_busy_cores", machineCores);
            m.put("wall_seconds", wallSeconds);
            return m;
        }
    }

    private final List<Role> roles = new ArrayList<>();

    /** Whether CPU times can be read here (Linux). */
    static boolean available() {
        return Files.isReadable(PROC.resolve("self/stat"));
    }

    /** A process on its own (all its threads): a JVM. */
    CpuMeter process(String role, long pid) {
        roles.add(new Role(role, pid, false));
        return this;
    }

    /** This benchmark's own JVM. */
    CpuMeter self(String role) {
        return process(role, ProcessHandle.current().pid());
    }

    /**
     * A PostgreSQL server with all its processes, found from its data directory's
     * {@code postmaster.pid} (the benchmark runs on the same machine as the server).
     */
    CpuMeter postgres(String role, PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('data_directory')")) {
            rs.next();
            Path pidFile = Path.of(rs.getString(1), "postmaster.pid");
            try {
                long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
                roles.add(new Role(role, pid, true));
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot read the postmaster's pid of " + server.name() + " from "
                        + pidFile + ": " + e.getMessage(), e);
            }
        }
        return this;
    }

    Snapshot snapshot() {
        Map<Long, long[]> stats = available() ? readAll() : Map.of();
        Map<String, Long> ticks = new LinkedHashMap<>();
        Map<String, Long> jit = new LinkedHashMap<>();
        for (Role r : roles) {
            long[] own = stats.get(r.pid());
            long t = 0;
            if (own != null) {
                t = own[1] + (r.tree() ? own[2] : 0);
                if (r.tree()) {
                    for (long[] st : stats.values()) {
                        if (st[0] == r.pid()) {
                            t += st[1];
                        }
                    }
                }
            }
            ticks.put(r.name(), t);
            if (!r.tree() && own != null) {
                jit.put(r.name(), jitTicks(PROC.resolve(Long.toString(r.pid()))));
            }
        }
        long[] machine = machine();
        return new Snapshot(ticks, jit, machine[0], machine[1], System.nanoTime());
    }

    static Usage between(Snapshot a, Snapshot b) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        b.ticks().forEach((role, t) -> seconds.put(role, Math.max(0, t - a.ticks().getOrDefault(role, 0L))
                / TICKS_PER_SECOND));
        Map<String, Double> jit = new LinkedHashMap<>();
        b.jitTicks().forEach((role, t) -> jit.put(role, Math.max(0, t - a.jitTicks().getOrDefault(role, 0L))
                / TICKS_PER_SECOND));
        double wall = (b.nanos() - a.nanos()) / 1e9;
        long total = b.machineTotal() - a.machineTotal();
        int cores = Runtime.getRuntime().availableProcessors();
        double busyCores = total <= 0 ? 0 : (double) (b.machineBusy() - a.machineBusy()) / total * cores;
        return new Usage(seconds, jit, busyCores, wall);
    }

    /** Per pid: parent pid, own user+system ticks, reaped children's user+system ticks. */
    private static Map<Long, long[]> readAll() {
        Map<Long, long[]> out = new LinkedHashMap<>();
        try (var dirs = Files.newDirectoryStream(PROC)) {
            for (Path d : dirs) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long[] st = stat(d.resolve("stat"));
                if (st != null) {
                    out.put(Long.parseLong(name), st);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + PROC + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * User+system ticks of a process's JIT compiler threads, from {@code <proc>/task/<tid>/stat};
     * compiler threads that ended are not counted (HotSpot keeps its compiler threads while busy).
     */
    static long jitTicks(Path process) {
        long sum = 0;
        try (var tasks = Files.newDirectoryStream(process.resolve("task"))) {
            for (Path task : tasks) {
                String s;
                try {
                    s = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue; // the thread ended
                }
                String name = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
                for (String jit : JIT_THREADS) {
                    if (name.startsWith(jit)) {
                        long[] st = parseStat(s);
                        sum += st[1];
                    }
                }
            }
        } catch (IOException e) {
            return 0; // the process is gone
        }
        return sum;
    }

    /** Fields of {@code /proc/<pid>/stat}, or null if the process is gone. */
    static long[] stat(Path file) {
        String s;
        try {
            s = Files.readString(file);
        } catch (IOException e) {
            return null; // exited between listing and reading
        }
        return parseStat(s);
    }

    private static long[] parseStat(String s) {
        // The command name is in parentheses and may hold spaces: fields start after the last ')'.
        String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        long ppid = Long.parseLong(f[1]);
        long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        long children = Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return new long[] {ppid, own, children};
    }

    /** The machine's busy and total ticks from {@code /proc/stat} (all cores). */
    private static long[] machine() {
        if (!available()) {
            return new long[] {0, 0};
        }
        try {
            String cpu = Files.readAllLines(PROC.resolve("stat")).get(0);
            String[] f = cpu.trim().split("\\s+");
            long total = 0;
            long idle = 0;
            // user nice system idle iowait irq softirq steal; guest time is already in user and nice
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                long v = Long.parseLong(f[i]);
                total += v;
                if (i == 4 || i == 5) { // idle, iowait
                    idle += v;
                }
            }
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read /proc/stat: " + e.getMessage(), e);
        }
    }
}
