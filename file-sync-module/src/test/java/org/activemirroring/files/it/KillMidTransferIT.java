package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mirror's JVM killed ({@code kill -9}) in the middle of fetching a large file, then started
 * again on the same data directory: it resumes and ends with the file intact, fetching less than
 * the whole file again (the blocks already in its temp file verify and are kept). Mirror m1 runs in
 * the test JVM, m2 in a child JVM ({@link FolderMirrorMain}). Size: {@code -Dfiles.kill.mb}
 * (default 300).
 */
class KillMidTransferIT {
    static final long MB = 1024 * 1024;
    static final long SIZE = Long.getLong("files.kill.mb", 300) * MB;
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    final List<Process> children = new ArrayList<>();
    FolderMirror a;

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (a != null) {
            a.close();
        }
    }

    @Test
    void aMirrorKilledMidTransferResumesAndFetchesLessThanTheFile() throws Exception {
        List<Integer> ports = List.of(MirrorSettings.freeTransportPort(), MirrorSettings.freeTransportPort());
        String cluster = "files-kill-" + System.nanoTime();
        a = FolderMirror.start(FolderMirror.settings("m1", tmp, ports.get(0), ports, cluster),
                FileSyncOptions.defaults().withScanIntervalMs(2_000));
        Path status = tmp.resolve("m2-status.txt");
        Path folderB = tmp.resolve("m2").resolve("u");
        List<String> command = List.of(javaBin(), "-cp", System.getProperty("java.class.path"),
                FolderMirrorMain.class.getName(), "m2", tmp.toString(), ports.get(1).toString(),
                ports.stream().map(String::valueOf).collect(Collectors.joining(",")), cluster, status.toString());

        Process first = startChild(command, tmp.resolve("m2-run1.log"));
        Await.until(WAIT, () -> a.transport.members().size() == 2 && "true".equals(read(status).get("synced")),
                () -> "m2 did not join: " + read(status) + "\n" + tail(tmp.resolve("m2-run1.log")));

        Path staged = tmp.resolve("big.bin");
        LargeFileIT.writeRandom(staged, SIZE, 7);
        Files.move(staged, a.folder.resolve("big.bin"));
        String sha = FolderDigest.sha256(a.folder.resolve("big.bin"));

        long[] partSize = new long[1];
        Await.until(WAIT, () -> {
            partSize[0] = partFileSize(folderB);
            return partSize[0] >= SIZE / 3;
        }, () -> "no transfer in progress on m2 (temp file " + partSize[0] + " bytes): " + read(status)
                + "\n" + tail(tmp.resolve("m2-run1.log")));
        first.destroyForcibly(); // SIGKILL: no shutdown hook, no close, no save
        first.waitFor(10, TimeUnit.SECONDS);
        long partAfterKill = partFileSize(folderB);
        assertTrue(partAfterKill > 0 && !Files.exists(folderB.resolve("big.bin")),
                "killed mid-transfer: temp file " + partAfterKill + " bytes, big.bin not yet in place");
        Files.deleteIfExists(status);

        startChild(command, tmp.resolve("m2-run2.log"));
        Await.until(WAIT, () -> "true".equals(read(status).get("settled"))
                        && Files.exists(folderB.resolve("big.bin")) && Files.size(folderB.resolve("big.bin")) == SIZE
                        && FolderDigest.sha256(folderB.resolve("big.bin")).equals(sha),
                () -> "m2 did not resume: " + read(status) + " " + FolderDigest.safe(folderB) + "\n"
                        + tail(tmp.resolve("m2-run2.log")));
        long refetched = Long.parseLong(read(status).get("bytesFetched"));
        System.out.printf("KillMidTransferIT: killed with %d of %d bytes in the temp file; the second run fetched %d%n",
                partAfterKill, SIZE, refetched);
        assertTrue(refetched < SIZE, "the second run fetched " + refetched + " bytes of a " + SIZE
                + "-byte file; the " + partAfterKill + " bytes in its temp file were not reused");
        // Blocks are written out of order by parallel requests: the temp file's size may run ahead
        // of what it holds by the batches in flight (4 x 4 MiB), and the last ones may be torn.
        long slack = 32 * MB;
        assertTrue(refetched <= SIZE - partAfterKill + slack, "the second run fetched " + refetched
                + " bytes, more than the " + (SIZE - partAfterKill) + " missing from the temp file (+ " + slack + ")");
        assertEquals(Map.of("big.bin", sha), FolderDigest.of(folderB), "m2's folder, no temp file left");
    }

    private Process startChild(List<String> command, Path log) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        children.add(p);
        return p;
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Size of the largest {@code .am-tmp-*.part} file in the folder, 0 if none. */
    private static long partFileSize(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(folder)) {
            long max = 0;
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(".am-tmp-") && name.endsWith(".part")) {
                    max = Math.max(max, Files.size(p));
                }
            }
            return max;
        }
    }

    /** The child's last status line as key/value pairs; empty before it wrote one. */
    private static Map<String, String> read(Path status) {
        Map<String, String> out = new HashMap<>();
        try {
            for (String kv : Files.readString(status, StandardCharsets.UTF_8).trim().split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    out.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        } catch (IOException e) {
            // not written yet
        }
        return out;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
