package org.activemirroring.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The floor for a folder scan: {@code find <dir> -type f -printf '%s %T@ %p\n'} lists every file
 * with the size and mtime a scan compares against its index, in one C process without hashing. Our
 * scan of an unchanged folder does the same stat calls, so its time over find's is our overhead.
 * The listing goes to a discarded stream: producing it is the work, not storing it.
 */
final class FindScan {
    private FindScan() {
    }

    /**
     * Runs find over {@code dir} and returns its wall time in milliseconds, from spawn to exit.
     *
     * @throws IllegalStateException when find fails or is missing (it is in Debian's findutils)
     */
    static long millis(Path dir) throws IOException, InterruptedException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("Cannot scan " + dir + ": it is not a directory; create the tree first");
        }
        ProcessBuilder pb = new ProcessBuilder("find", dir.toAbsolutePath().toString(), "-type", "f", "-printf",
                "%s %T@ %p\\n").redirectOutput(ProcessBuilder.Redirect.DISCARD);
        long start = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("Cannot run find (" + e.getMessage() + "): install Debian's findutils"
                    + " package (apt-get install -y findutils)", e);
        }
        String err;
        try {
            // Read before waiting, so a full stderr pipe cannot stall find; it is empty on success.
            err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(1, TimeUnit.HOURS)) {
                throw new IllegalStateException("find over " + dir + " did not finish in 1 hour");
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor();
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("find over " + dir + " failed (exit " + p.exitValue() + "): " + err);
        }
        return millis;
    }
}
