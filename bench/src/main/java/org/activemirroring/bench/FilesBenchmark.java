package org.activemirroring.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.FolderScanResult;
import org.activemirroring.files.FolderScanner;
import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;

/**
 * Folder replication beside rsync: {@code bench/run files [--mb 1024] [--file-kb 1024]
 * [--scan-files 100000]}, both in the same run, on this machine.
 *
 * <p>Ours: two folder-only mirrors A and B in this JVM ({@link FolderNode}: JGroups over TCP on
 * 127.0.0.1, file sync, no database), with the options a mirror runs with by default: the watcher
 * on (50 ms debounce) and a periodic scan every 60 s. Nothing calls a scan: the watcher drives
 * each step, as it does on a live site, so each time includes noticing the change. Reference:
 * {@code rsync -a --delete} pushing a copy of the same tree to an rsync daemon on 127.0.0.1
 * ({@link RsyncReference}). Before the steps the mirrors are warmed up, not timed ({@code warmUp}:
 * a few rounds of a small tree made, edited and deleted), so their code runs compiled, as in a
 * mirror that has been up a while. Each step edits both sources alike (same seeds), rsync first; before
 * each timed part the kernel's dirty pages are flushed ({@code sync}), so neither side pays for
 * the other's writes.
 * <ol>
 *   <li>initial: {@code --mb} MiB in files of {@code --file-kb} KiB. rsync pushes it to the empty
 *       daemon directory. For ours it is made in a staging directory and its directories are moved
 *       into A's folder (it appears at once); timed from the move until B holds the same files.</li>
 *   <li>delta: 10% of the files get 1% of their bytes overwritten in place.</li>
 *   <li>insert: 10% of the files get 1% of their size inserted at a random offset.</li>
 *   <li>rename: every top-level directory moves under {@code renamed/}: rsync sends it all again
 *       (informational); ours should send only the new names (goal: under 1 MiB).</li>
 * </ol>
 * For edits 2 to 4, ours is timed from the end of the edit (when rsync would be started) until
 * B's folder has A's {@link FileTree#digest}, A has scanned after the edit, B has delivered all
 * A published and is {@code settled()}; the conditions are polled every 10 ms, the digest
 * (seconds for a GiB) is checked once they hold. The time until only B's writing was left (A had
 * scanned, B had been handed everything) is reported too. Each step also checks that rsync's destination
 * has the same digest as its source, and that both sources are alike.
 *
 * <p>Bytes on the wire. rsync: {@code Total bytes sent + Total bytes received} of its
 * {@code --stats} (its whole protocol: file list, checksums, literal data). Ours: the encoded
 * envelopes of the file changes the mirrors published ({@link FileChangeTraffic}: header, path,
 * stat, hash, block list or block-list delta, version vector), plus the bodies of every block and
 * delta request they sent and of every reply they received ({@code TransferCounters}: block
 * hashes, the signatures of the bases deltas are built on, block bytes, length headers and delta
 * op streams). Not counted for ours: JGroups framing and acknowledgements, and heartbeats.
 *
 * <p>5. scan: {@code --scan-files} small files in a third folder-only mirror's folder, alone (no
 * watcher, no periodic scan), indexed by its first scan; then the best of 3 {@code scanNow()} of
 * the unchanged folder beside the best of 3 {@link FindScan} over it. That nothing was read is
 * checked by one more scan, with file-sync-module's {@link FolderScanner} against the index the
 * mirror saved ({@link FolderScanResult#hashesDone()}; {@code FileSync} does not expose it).
 */
final class FilesBenchmark {
    private static final long SEED = 20_261_207L;
    private static final long STEP_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(10);
    private static final String RENAMED = "renamed";
    private static final int WARM_UP_ROUNDS = Integer.getInteger("bench.files.warmup.rounds", 4);
    private static final int WARM_UP_MAX_ROUNDS = Integer.getInteger("bench.files.warmup.max.rounds", 40);
    private static final int WARM_UP_SMALL_FILES = 1000;

    private FilesBenchmark() {
    }

    /** One edit of a source folder, the same for rsync's source and A's folder. */
    @FunctionalInterface
    private interface Edit {
        FileTree.Change apply(Path dir) throws IOException;
    }

    static Map<String, Object> run(int mb, int fileKb, int scanFiles) throws Exception {
        check(mb >= 1, "--mb", mb, "give the tree's size in MiB, at least 1");
        check(fileKb >= 1 && fileKb <= 1024 * 1024, "--file-kb", fileKb, "give each file's size in KiB, 1 to 1048576");
        check(scanFiles >= 1, "--scan-files", scanFiles, "give the number of small files of the scan, at least 1");
        int files = (int) Math.max(1, (long) mb * 1024 / fileKb);
        int fileBytes = fileKb * 1024;
        Path work = Files.createTempDirectory(PostgresServers.workDir(), "files-");
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("kind", "files");
        r.put("mb", mb);
        r.put("file_kb", fileKb);
        r.put("files", files);
        r.put("scan_files", scanFiles);
        r.put("driven_by", "watcher (debounce 50 ms), periodic scan every 60 s");
        r.put("rsync_fsync", RsyncReference.FSYNC);
        try {
            List<Map<String, Object>> steps = replication(work, files, fileBytes, r);
            r.put("steps", steps);
            Map<String, Object> scan = scan(work.resolve("scan"), scanFiles);
            r.put("scan", scan);
            printTable(steps, scan);
            Map<String, Object> initial = steps.get(0);
            Map<String, Object> delta = steps.get(1);
            Map<String, Object> insert = steps.get(2);
            Map<String, Object> rename = steps.get(3);
            r.put("goals", goals(steps, scan));
            r.put("RESULT", String.format(Locale.ROOT, "RESULT files initial_ratio=%.2f delta_time_ratio=%.2f"
                            + " delta_bytes_ratio=%.2f insert_bytes_ratio=%.2f rename_bytes=%d scan_ratio=%.2f",
                    initial.get("time_ratio"), delta.get("time_ratio"), delta.get("bytes_ratio"),
                    insert.get("bytes_ratio"), (long) rename.get("ours_bytes"), scan.get("ratio")));
            return r;
        } finally {
            deleteTree(work);
        }
    }

    /** Steps 1 to 4, each a map of ours and rsync's time and bytes. */
    private static List<Map<String, Object>> replication(Path work, int files, int fileBytes, Map<String, Object> r)
            throws Exception {
        Path rsyncSrc = Files.createDirectories(work.resolve("rsync-src"));
        Path staging = Files.createDirectories(work.resolve("staging"));
        Path nodes = work.resolve("nodes");
        List<Integer> ports = List.of(MirrorSettings.freeTransportPort(), MirrorSettings.freeTransportPort());
        String cluster = "bench-files-" + System.nanoTime();
        // The defaults a mirror runs with (the watcher notices changes, the periodic scan is the
        // backstop), or what BENCH_JAVA_OPTS=-Dmirror.files.<option>=<value> sets.
        Map<String, String> given = new java.util.HashMap<>();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("mirror.files."))
                .forEach(k -> given.put(k, System.getProperty(k)));
        List<String> problems = new ArrayList<>();
        FileSyncOptions options = FileSyncOptions.from(given, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        List<Map<String, Object>> steps = new ArrayList<>();
        try (RsyncReference rsync = RsyncReference.start(work.resolve("rsyncd"), work.resolve("rsync-dst"));
             FolderNode a = FolderNode.start("a", nodes, ports.get(0), ports, cluster, options)) {
            // A alone first: its empty folder starts from disk; B then copies A's (empty) index.
            awaitTrue("A's folder is synced", () -> a.files.synced(), () -> a.files.status().toString());
            try (FolderNode b = FolderNode.start("b", nodes, ports.get(1), ports, cluster, options)) {
                awaitTrue("A and B see each other and B's folder is synced",
                        () -> b.files.synced() && a.transport.members().size() == 2 && b.transport.members().size() == 2,
                        () -> "A " + a.transport.members() + ", B " + b.transport.members() + " " + b.files.status());
                r.put("warm_up", warmUp(a, b, fileBytes));
                Pair pair = new Pair(a, b, rsync, rsyncSrc);
                BenchMain.say("Files: " + files + " files of " + fileBytes / 1024 + " KiB (" + (long) files * fileBytes
                        / 1048576 + " MiB); ours = mirrors A and B (watcher-driven), reference = rsync to a daemon"
                        + (RsyncReference.FSYNC ? " with --fsync (each file forced to disk, as ours)" : ""));
                steps.add(pair.step("initial", dir -> {
                    long bytes = FileTree.create(dir, files, fileBytes, SEED);
                    return new FileTree.Change(files, bytes);
                }, staging));
                steps.add(pair.step("delta", dir -> FileTree.changeInPlace(dir, 0.10, 0.01, SEED + 1), null));
                steps.add(pair.step("insert", dir -> FileTree.insert(dir, 0.10, 0.01, SEED + 2), null));
                steps.add(pair.step("rename", FilesBenchmark::moveUnderRenamed, null));
            }
        }
        return steps;
    }

    /**
     * Before anything is timed, rounds of a small tree (about 32 MiB, and 1,000 files of 1-4 KiB)
     * made, edited in place, edited by insertions and deleted in A's folder, each awaited on B: the
     * mirrors' code is then compiled, as in a mirror that has run for a while, and not compiled
     * while it is timed (rsync, its reference, is native code). At least {@code bench.files.warmup.rounds} rounds (4),
     * then more until the JIT compilers spent under a tenth of a round's time compiling (at most
     * {@code bench.files.warmup.max.rounds}, 40): a fixed count left the C2 compiler busy on half a
     * core through the timed initial copy. Returns the rounds run and the last round's compile share.
     */
    private static Map<String, Object> warmUp(FolderNode a, FolderNode b, int fileBytes) throws Exception {
        int files = (int) Math.max(4, Math.min(256, (32L << 20) / fileBytes));
        BenchMain.say("Warm-up (not timed): at least " + WARM_UP_ROUNDS + " rounds of " + files + " files of "
                + fileBytes / 1024 + " KiB made, edited and deleted on A, until the JIT is quiet ...");
        Path onA = a.folder.resolve("warm-up");
        Path onB = b.folder.resolve("warm-up");
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
        int round = 0;
        double share = Double.NaN;
        while (round < WARM_UP_ROUNDS || (measurable && share >= 0.10 && round < WARM_UP_MAX_ROUNDS)) {
            long compiledBefore = measurable ? jit.getTotalCompilationTime() : 0;
            long startedAt = System.nanoTime();
            long seed = SEED + 100 + round;
            FileTree.create(onA, files, fileBytes, seed);
            // Many small files too: the per-file paths (scan, publish, delivery, rename into place)
            // run once per file, so a few large files leave them to be compiled while timed.
            FileTree.createSmall(onA.resolve("small"), WARM_UP_SMALL_FILES, seed);
            awaitSameTree(a, b, onA, onB);
            FileTree.changeInPlace(onA, 0.5, 0.01, seed);
            awaitSameTree(a, b, onA, onB);
            FileTree.insert(onA, 0.5, 0.01, seed);
            awaitSameTree(a, b, onA, onB);
            deleteTree(onA);
            awaitTrue("B deleted the warm-up files", () -> whileStill(() -> !Files.exists(onB)
                    || FileTree.regularFiles(onB).isEmpty()), () -> b.files.status().toString());
            long tookMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt));
            if (measurable) {
                share = (double) (jit.getTotalCompilationTime() - compiledBefore) / tookMs;
            }
            round++;
        }
        awaitTrue("B settled after the warm-up", () -> b.files.status().settled() && a.files.status().settled(),
                () -> "A " + a.files.status() + "; B " + b.files.status());
        BenchMain.say(String.format(Locale.ROOT, "  warm-up: %d rounds, the last one's JIT compile time %.0f%% of it",
                round, share * 100));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("rounds", round);
        r.put("last_round_compile_share", measurable ? Math.round(share * 1000) / 1000.0 : "not measurable");
        return r;
    }

    /** {@code c}, or false when a file went away while it was read (B is still writing). */
    private static boolean whileStill(Condition c) throws Exception {
        try {
            return c.holds();
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof java.nio.file.NoSuchFileException) {
                return false;
            }
            throw e;
        }
    }

    private static void awaitSameTree(FolderNode a, FolderNode b, Path onA, Path onB) throws Exception {
        String want = FileTree.digest(onA);
        awaitTrue("B has A's warm-up files", () -> whileStill(() -> Files.isDirectory(onB)
                && FileTree.digest(onB).equals(want)), () -> b.files.status().toString());
    }

    /** The two mirrors, the daemon, and the counters of what each step put on the wire. */
    private static final class Pair {
        private final FolderNode a;
        private final FolderNode b;
        private final RsyncReference rsync;
        private final Path rsyncSrc;
        private final Path rsyncDst;
        private final FileChangeTraffic trafficA = new FileChangeTraffic();
        private final FileChangeTraffic trafficB = new FileChangeTraffic();

        Pair(FolderNode a, FolderNode b, RsyncReference rsync, Path rsyncSrc) {
            this.a = a;
            this.b = b;
            this.rsync = rsync;
            this.rsyncSrc = rsyncSrc;
            this.rsyncDst = rsyncSrc.resolveSibling("rsync-dst");
            a.transport.observe(trafficA);
            b.transport.observe(trafficB);
        }

        /**
         * Runs one step: the edit on rsync's source and its push, then the edit on A (or, with a
         * {@code staging} directory, into it, then moved into A's folder) and the wait for B.
         */
        Map<String, Object> step(String name, Edit edit, Path staging) throws Exception {
            BenchMain.say("Step " + name + " ...");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("step", name);
            FileTree.Change change = edit.apply(rsyncSrc);
            r.put("edited_files", change.files());
            r.put("edited_bytes", change.bytes());
            syncDisks();
            RsyncReference.Run run = rsync.push(rsyncSrc);
            String srcDigest = FileTree.digest(rsyncSrc);
            if (!FileTree.digest(rsyncDst).equals(srcDigest)) {
                throw new IllegalStateException("rsync's destination differs from its source after step " + name);
            }
            long rsyncBytes = run.bytesSent() + run.bytesReceived();
            BenchMain.say(String.format(Locale.ROOT, "  rsync: %.2f s, %,d bytes (sent %,d + received %,d)",
                    run.millis() / 1e3, rsyncBytes, run.bytesSent(), run.bytesReceived()));

            trafficA.take();
            trafficB.take();
            long fetched0 = a.files.status().bytesFetched() + b.files.status().bytesFetched();
            long wire0 = wireBytes();
            long byDelta0 = a.files.transferCounters().bytesBuiltByDelta() + b.files.transferCounters().bytesBuiltByDelta();
            long fromLocal0 = b.files.status().bytesFromLocal();
            long published0 = a.folderStatus().published();
            long editMillis;
            long start;
            long editEndMs;
            if (staging != null) {
                edit.apply(staging);
                syncDisks();
                editMillis = 0;
                start = System.nanoTime();
                try (Stream<Path> s = Files.list(staging)) {
                    for (Path p : s.sorted().toList()) {
                        Files.move(p, a.folder.resolve(p.getFileName()));
                    }
                }
                editEndMs = System.currentTimeMillis();
            } else {
                syncDisks();
                long e0 = System.nanoTime();
                FileTree.Change mine = edit.apply(a.folder);
                start = System.nanoTime();
                editEndMs = System.currentTimeMillis();
                editMillis = TimeUnit.NANOSECONDS.toMillis(start - e0);
                if (!mine.equals(change)) {
                    throw new IllegalStateException("Step " + name + " edited A's folder unlike rsync's source: " + mine
                            + " vs " + change + "; the two trees had drifted apart");
                }
            }
            long[] deliveredAt = {-1};
            long millis = awaitReplicated(name, editEndMs, start, srcDigest, deliveredAt);
            FileChangeTraffic.Published pubA = trafficA.take();
            FileChangeTraffic.Published pubB = trafficB.take();
            long fetched = a.files.status().bytesFetched() + b.files.status().bytesFetched() - fetched0;
            long envelopes = pubA.envelopeBytes() + pubB.envelopeBytes();
            long wire = wireBytes() - wire0;
            long byDelta = a.files.transferCounters().bytesBuiltByDelta() + b.files.transferCounters().bytesBuiltByDelta()
                    - byDelta0;
            long ours = envelopes + wire;
            BenchMain.say(String.format(Locale.ROOT, "  ours:  %.2f s (edit took %d ms before), %,d bytes (%d change"
                            + " envelopes %,d + block and delta requests and replies %,d, of which received %,d);"
                            + " content found locally %,d, built by delta %,d",
                    millis / 1e3, editMillis, ours, pubA.changes() + pubB.changes(), envelopes, wire, fetched,
                    b.files.status().bytesFromLocal() - fromLocal0, byDelta));
            BenchMain.say(String.format(Locale.ROOT, "         A had scanned and B had been handed all A published %d ms"
                    + " after the edit; B had written it all %d ms after it", deliveredAt[0], millis));
            long estimated = pubA.newBlockBytes() + pubB.newBlockBytes();
            r.put("rsync_ms", run.millis());
            r.put("rsync_bytes", rsyncBytes);
            r.put("rsync_bytes_sent", run.bytesSent());
            r.put("rsync_bytes_received", run.bytesReceived());
            r.put("ours_ms", millis);
            r.put("ours_edit_ms", editMillis);
            r.put("ours_published_and_delivered_ms", deliveredAt[0]);
            r.put("ours_bytes", ours);
            r.put("ours_content_fetched", fetched);
            r.put("ours_content_from_local", b.files.status().bytesFromLocal() - fromLocal0);
            r.put("ours_wire_requests_and_replies", wire);
            r.put("ours_content_built_by_delta", byDelta);
            r.put("ours_changes_published", pubA.changes() + pubB.changes());
            r.put("ours_changes_published_by_b", pubB.changes());
            r.put("ours_a_published_counter", a.folderStatus().published() - published0);
            r.put("ours_envelope_bytes", envelopes);
            r.put("ours_new_blocks", pubA.newBlocks() + pubB.newBlocks());
            r.put("ours_new_block_bytes", estimated);
            r.put("time_ratio", (double) millis / Math.max(1, run.millis()));
            r.put("bytes_ratio", (double) ours / Math.max(1, rsyncBytes));
            return r;
        }

        /** Bytes of block and delta requests both mirrors sent, and of the replies they received. */
        private long wireBytes() {
            return a.files.transferCounters().requestBytes() + a.files.transferCounters().replyBytes()
                    + b.files.transferCounters().requestBytes() + b.files.transferCounters().replyBytes();
        }

        /**
         * Waits until B holds what A holds after an edit that ended at {@code editEndMs}; returns
         * the milliseconds from {@code startNanos} until the conditions held (the digest that
         * confirms them is not timed).
         */
        private long awaitReplicated(String step, long editEndMs, long startNanos, String expectedDigest,
                                     long[] deliveredAt) throws Exception {
            long deadline = startNanos + STEP_TIMEOUT_NANOS;
            while (true) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Step " + step + ": B did not get A's files within "
                            + TimeUnit.NANOSECONDS.toMinutes(STEP_TIMEOUT_NANOS) + " minutes. " + describe());
                }
                boolean delivered = delivered(editEndMs);
                if (delivered && deliveredAt[0] < 0) {
                    deliveredAt[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
                }
                if (delivered && b.files.status().settled()) {
                    long at = System.nanoTime();
                    if (FileTree.digest(b.folder).equals(expectedDigest) && FileTree.digest(a.folder).equals(expectedDigest)) {
                        return TimeUnit.NANOSECONDS.toMillis(at - startNanos);
                    }
                    BenchMain.say("  (step " + step + ": B looked settled but its files differ from A's yet; waiting on)");
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }

        /**
         * A has scanned since the edit and holds nothing half-written, and B has been handed
         * everything A journaled (once B also wants nothing more, B holds it all).
         */
        private boolean delivered(long editEndMs) {
            var fa = a.folderStatus();
            if (fa.lastScanAtMs() <= editEndMs || fa.stillWriting() > 0) {
                return false;
            }
            long head = a.transport.stats().journalHeads().getOrDefault(a.id, 0L);
            return b.transport.stats().delivered().getOrDefault(a.id, 0L) >= head;
        }

        private String describe() {
            return "A: " + a.files.status() + " journal head " + a.transport.stats().journalHeads() + "; B: "
                    + b.files.status() + " delivered " + b.transport.stats().delivered();
        }
    }

    /** Step 5: an unchanged folder of many small files, scanned by a lone mirror and by find. */
    private static Map<String, Object> scan(Path base, int scanFiles) throws Exception {
        BenchMain.say("Step scan: " + scanFiles + " small files ...");
        Path folder = Files.createDirectories(FolderNode.folderOf(base, "c"));
        FileTree.createSmall(folder, scanFiles, SEED + 3);
        syncDisks();
        FileSyncOptions d = FileSyncOptions.defaults();
        // No watcher and no periodic scan (a day): only the scans timed here run.
        FileSyncOptions options = new FileSyncOptions(false, d.debounceMs(), 86_400_000L, d.parallelFiles(),
                d.parallelRequests(), d.requestTimeoutMs());
        int port = MirrorSettings.freeTransportPort();
        Map<String, Object> r = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (FolderNode c = FolderNode.start("c", base, port, List.of(port), "bench-files-scan-" + System.nanoTime(),
                options)) {
            // The first scan runs at start: alone, the folder starts from disk and is indexed (all read).
            awaitTrue("C's first scan indexed the folder", () -> c.files.synced() && c.folderStatus().lastScanAtMs() > 0
                    && c.folderStatus().files() == scanFiles, () -> c.files.status().toString());
            long indexMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            BenchMain.say(String.format(Locale.ROOT, "  first scan (reads every file): %.2f s from start", indexMillis / 1e3));
            long best = Long.MAX_VALUE;
            long bestReported = Long.MAX_VALUE;
            List<Long> runs = new ArrayList<>();
            int published = 0;
            for (int i = 0; i < 3; i++) {
                long s = System.nanoTime();
                published += c.files.scanNow();
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s);
                runs.add(ms);
                best = Math.min(best, ms);
                bestReported = Math.min(bestReported, c.folderStatus().lastScanMillis());
            }
            List<Long> findRuns = new ArrayList<>();
            long findBest = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long ms = FindScan.millis(folder);
                findRuns.add(ms);
                findBest = Math.min(findBest, ms);
            }
            // The same scanner FolderSync runs, against the index C saved: how many files it reads.
            long s = System.nanoTime();
            FolderScanResult check = new FolderScanner(Clock.systemUTC()).scan(c.config, FolderIndex.load(c.indexFile()));
            long scannerMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s);
            BenchMain.say(String.format(Locale.ROOT, "  unchanged: scanNow best of 3 %d ms %s (lastScanMillis %d), find %d ms %s;"
                            + " changes published %d; the scanner alone: %d ms, %d files unchanged, %d read",
                    best, runs, bestReported, findBest, findRuns, published, scannerMillis, check.unchanged(),
                    check.hashesDone()));
            r.put("files", scanFiles);
            r.put("first_scan_from_start_ms", indexMillis);
            r.put("ours_ms", best);
            r.put("ours_runs_ms", runs);
            r.put("ours_last_scan_millis_best", bestReported);
            r.put("ours_changes_published", published);
            r.put("find_ms", findBest);
            r.put("find_runs_ms", findRuns);
            r.put("scanner_only_ms", scannerMillis);
            r.put("scanner_unchanged", check.unchanged());
            r.put("scanner_hashes_done", check.hashesDone());
            r.put("ratio", (double) best / Math.max(1, findBest));
            if (published != 0 || check.hashesDone() != 0) {
                BenchMain.say("  note: the unchanged folder was not seen as unchanged (published " + published
                        + ", read " + check.hashesDone() + " files)");
            }
        }
        return r;
    }

    private static Map<String, Object> goals(List<Map<String, Object>> steps, Map<String, Object> scan) {
        Map<String, Object> g = new LinkedHashMap<>();
        for (Map<String, Object> s : steps) {
            if (!s.get("step").equals("rename")) {
                g.put(s.get("step") + "_time_le_1.0x_rsync", (double) s.get("time_ratio") <= 1.0);
            }
        }
        g.put("delta_bytes_le_1.5x_rsync", (double) steps.get(1).get("bytes_ratio") <= 1.5);
        g.put("insert_bytes_le_1.0x_rsync", (double) steps.get(2).get("bytes_ratio") <= 1.0);
        g.put("rename_bytes_lt_1MiB", (long) steps.get(3).get("ours_bytes") < 1L << 20);
        g.put("scan_le_2x_find", (double) scan.get("ratio") <= 2.0);
        return g;
    }

    private static void printTable(List<Map<String, Object>> steps, Map<String, Object> scan) {
        BenchMain.say("");
        BenchMain.say(String.format(Locale.ROOT, "  %-8s %8s %13s %9s %9s %6s %15s %15s %6s", "step", "files", "edited bytes",
                "ours s", "rsync s", "time", "ours bytes", "rsync bytes", "bytes"));
        for (Map<String, Object> s : steps) {
            BenchMain.say(String.format(Locale.ROOT, "  %-8s %8d %,13d %9.2f %9.2f %6.2f %,15d %,15d %6.2f", s.get("step"),
                    s.get("edited_files"), s.get("edited_bytes"), (long) s.get("ours_ms") / 1e3,
                    (long) s.get("rsync_ms") / 1e3, s.get("time_ratio"), s.get("ours_bytes"), s.get("rsync_bytes"),
                    s.get("bytes_ratio")));
        }
        BenchMain.say(String.format(Locale.ROOT, "  %-8s %8d %13s %9.2f %9s %6.2f   (find %.2f s; ours read %d files)",
                "scan", scan.get("files"), "-", (long) scan.get("ours_ms") / 1e3, "-", scan.get("ratio"),
                (long) scan.get("find_ms") / 1e3, scan.get("scanner_hashes_done")));
        BenchMain.say("  time and bytes are ours / rsync (scan: ours / find); goals: time <= 1.0, bytes <= 1.5 in place"
                + " and <= 1.0 for insertions, rename < 1 MiB, scan <= 2.0");
    }

    /** Step 4's edit: every top-level entry moves under {@value #RENAMED}/ (one rename each). */
    private static FileTree.Change moveUnderRenamed(Path dir) throws IOException {
        List<Path> top;
        try (Stream<Path> s = Files.list(dir)) {
            top = s.sorted().toList();
        }
        Path target = Files.createDirectory(dir.resolve(RENAMED));
        for (Path p : top) {
            Files.move(p, target.resolve(p.getFileName()));
        }
        return new FileTree.Change(top.size(), 0);
    }

    /** Flushes dirty pages, so the next timed part does not pay for the previous one's writes. */
    private static void syncDisks() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sync").inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("sync failed with exit code " + p.exitValue());
        }
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    @FunctionalInterface
    private interface Describe {
        String get() throws Exception;
    }

    private static void awaitTrue(String what, Condition c, Describe state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Not within 10 minutes: " + what + ". " + state.get());
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void check(boolean ok, String option, int value, String todo) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for " + option + ": " + todo);
        }
    }
}
