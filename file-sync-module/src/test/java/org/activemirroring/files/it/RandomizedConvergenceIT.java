package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random file operations on random mirrors of three (create, overwrite, append, rename/move,
 * delete, mkdir), some rounds editing the same path on two mirrors at once; then every folder must
 * be the same on every mirror and no version may be lost.
 *
 * <p>What "no version lost" means here, kept simple and sound. The test runs the operations one
 * after another and numbers them. A write (create, overwrite, append, or a rename's new name) puts
 * a content that is unique in the run at a path, on mirror X. A later operation on that path
 * (write, append, delete, rename away or onto it) may replace that content only if it saw it: it
 * ran on X itself, or X had published something since the write (X's own journal head grew; the
 * test cannot tell whether that was this write, so it assumes so). A content no later operation
 * may have replaced must be somewhere in the final folder: at its path or as a conflict copy.
 * Both bounds lean the safe way (heads read before the write, after the later operation), so the
 * check never blames the mirrors for a replacement the user made knowingly. A write whose content
 * was not on disk when the test read it back (the mirror put a fetched file there in between) is
 * not counted. Conflict copies of conflict copies are allowed by the file-name check and reported.
 *
 * <p>Seed: {@code -Dfiles.random.seed=N} (printed in every failure); operations:
 * {@code -Dfiles.random.ops=N} (default 150).
 */
class RandomizedConvergenceIT {
    static final int OPS = Integer.getInteger("files.random.ops", 150);
    static final Duration WAIT = Duration.ofSeconds(60);
    static final List<String> FILES = List.of("a.txt", "b.txt", "c.dat", "readme", "notes.md", "d1/e.txt",
            "d1/f.txt", "d1/x", "d1/d2/g.txt", "d1/d2/y.txt", "d3/h.txt", "d3/i.bin", "d3/j.txt", "d4/k.txt",
            "d4/l.txt", "d5/d6/m.txt");
    static final List<String> DIRS = List.of("d1", "d1/d2", "d3", "d4", "d5/d6");
    static final Pattern CONFLICT_COPY = Pattern.compile("(.*)\\.sync-conflict-\\d{8}-\\d{6}-m[123](-[0-9a-f]{8})?(\\.[^./]*)?");

    /** A content put at a path by operation {@code op} on {@code mirror}, whose head was {@code headBefore}. */
    record Write(int op, String mirror, String path, String sha, long headBefore) {
    }

    /** An operation on a path, and every mirror's journal head right after it (by mirror id). */
    record Touch(int op, String mirror, Map<String, Long> headsAfter) {
    }

    @TempDir
    Path tmp;
    FolderNetwork net;
    final long seed = Long.getLong("files.random.seed", System.nanoTime());
    final Random random = new Random(seed);
    final List<Write> writes = new ArrayList<>();
    final Map<String, List<Touch>> touches = new HashMap<>();
    final List<String> log = new ArrayList<>();
    int op;

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void randomOperationsConvergeAndLoseNoVersion() throws Exception {
        net = FolderNetwork.start(tmp, 3, FileSyncOptions.defaults().withScanIntervalMs(1_000), WAIT);
        while (op < OPS) {
            if (random.nextInt(5) == 0) {
                // The same path on two mirrors within one round: concurrent edits.
                String path = pick(FILES);
                int first = random.nextInt(3);
                int second = (first + 1 + random.nextInt(2)) % 3;
                write(net.get(first), path, false);
                write(net.get(second), path, random.nextBoolean());
            } else {
                for (int n = 1 + random.nextInt(2); n > 0 && op < OPS; n--) {
                    randomOperation(net.get(random.nextInt(3)));
                }
            }
            if (random.nextInt(10) < 3) {
                awaitScannedSince(System.currentTimeMillis());
            }
        }
        try {
            net.awaitSame(WAIT, false);
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage() + "\nwhat each mirror holds of the paths that"
                    + " differ:\n" + versionsOfDifferingPaths() + "operations:\n" + String.join("\n", log), e);
        }
        check(FolderDigest.of(net.get(0).folder));
    }

    private void check(Map<String, String> folder) {
        Set<String> present = new HashSet<>(folder.values());
        List<String> problems = new ArrayList<>();
        int required = 0;
        int nested = 0;
        for (Write w : writes) {
            if (mayBeReplaced(w)) {
                continue;
            }
            required++;
            if (!present.contains(w.sha())) {
                problems.add("lost: #" + w.op() + " " + w.mirror() + " " + w.path() + " " + w.sha().substring(0, 12));
            }
        }
        for (String path : folder.keySet()) {
            String original = path;
            for (var m = CONFLICT_COPY.matcher(original); m.matches(); m = CONFLICT_COPY.matcher(original)) {
                nested += original.equals(path) ? 0 : 1;
                original = m.group(1) + (m.group(3) == null ? "" : m.group(3));
            }
            if (!FILES.contains(original)) {
                problems.add("unexpected file: " + path);
            }
        }
        if (!problems.isEmpty()) {
            fail("seed " + seed + " (-Dfiles.random.seed=" + seed + "): " + problems + "\nfinal folder:\n"
                    + folder.entrySet().stream().map(e -> " " + e.getKey() + " " + e.getValue().substring(0, 12))
                    .reduce("", (x, y) -> x + y + "\n") + "operations:\n" + String.join("\n", log));
        }
        System.out.printf("RandomizedConvergenceIT: seed %d, %d operations, %d of %d versions had to be kept, %d files"
                + " at the end, %d of them conflict copies of conflict copies%n", seed, op, required, writes.size(),
                folder.size(), nested);
        for (FolderMirror m : net.mirrors) {
            System.out.printf("RandomizedConvergenceIT: %s took block-list deltas %s%n", m.id, m.files.blockListDeltas());
            assertEquals(0, m.files.blockListDeltas().refused(), m.id + " refused a delta a mirror made");
        }
    }

    /** Per path whose content differs between mirrors: each mirror's saved local, wanted and sibling entries. */
    private String versionsOfDifferingPaths() {
        java.util.Set<String> paths = new java.util.TreeSet<>();
        Map<String, String> first = FolderDigest.safe(net.get(0).folder);
        for (FolderMirror m : net.mirrors) {
            Map<String, String> d = FolderDigest.safe(m.folder);
            for (String p : d.keySet()) {
                if (!d.get(p).equals(first.get(p))) {
                    paths.add(p);
                }
            }
            for (String p : first.keySet()) {
                if (!first.get(p).equals(d.get(p))) {
                    paths.add(p);
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String p : paths) {
            for (int i = 0; i < net.mirrors.size(); i++) {
                Path data = net.dataDir(i);
                try {
                    org.activemirroring.files.FolderIndex index = org.activemirroring.files.FolderIndex.load(
                            org.activemirroring.files.FolderIndex.fileFor(data, "u"));
                    org.activemirroring.files.FolderIndex wanted = org.activemirroring.files.FolderIndex.load(
                            org.activemirroring.files.FolderIndex.fileFor(data, "u").resolveSibling("u.wanted"));
                    org.activemirroring.files.FolderSiblings siblings = org.activemirroring.files.FolderSiblings.load(
                            org.activemirroring.files.FolderSiblings.fileFor(data, "u"));
                    sb.append(' ').append(net.get(i).id).append(' ').append(p).append("\n  local ")
                            .append(brief(index.get(p))).append("\n  wanted ").append(brief(wanted.get(p)))
                            .append("\n  siblings ").append(siblings.of(p).stream().map(RandomizedConvergenceIT::brief)
                                    .toList()).append('\n');
                } catch (IOException | RuntimeException e) {
                    sb.append(' ').append(net.get(i).id).append(' ').append(p).append(": ").append(e).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private static String brief(org.activemirroring.files.FolderEntry e) {
        return e == null ? "-" : (e.tombstone() ? "tombstone" : e.sha256Hex().substring(0, 12) + " " + e.size() + " B "
                + e.blocks().size() + " blocks") + " mtime " + e.mtimeMs() + " by " + e.modifiedBy() + " " + e.versions();
    }

    /** Whether a later operation on the write's path may have seen it (see the class comment). */
    private boolean mayBeReplaced(Write w) {
        for (Touch t : touches.getOrDefault(w.path(), List.of())) {
            if (t.op() > w.op() && (t.mirror().equals(w.mirror()) || t.headsAfter().get(w.mirror()) > w.headBefore())) {
                return true;
            }
        }
        return false;
    }

    private Map<String, Long> heads() {
        Map<String, Long> out = new HashMap<>();
        for (FolderMirror m : net.mirrors) {
            out.put(m.id, m.transport.stats().journalHeads().getOrDefault(m.id, 0L));
        }
        return out;
    }

    private void randomOperation(FolderMirror m) throws IOException {
        switch (random.nextInt(6)) {
            case 0, 1 -> write(m, pick(FILES), false);
            case 2 -> write(m, pick(FILES), true);
            case 3 -> rename(m, pick(FILES), pick(FILES));
            case 4 -> delete(m, pick(FILES));
            default -> mkdir(m, pick(DIRS));
        }
    }

    /** Creates or overwrites {@code path} (or appends to it) with a content unique in the run. */
    private void write(FolderMirror m, String path, boolean append) throws IOException {
        int n = ++op;
        long headBefore = heads().get(m.id);
        Path file = m.folder.resolve(path);
        Files.createDirectories(file.getParent());
        byte[] content = content(n, m.id, path);
        byte[] expected;
        if (append && Files.exists(file)) {
            byte[] old = readOrNull(file);
            try {
                Files.write(file, content, StandardOpenOption.APPEND);
            } catch (java.nio.file.NoSuchFileException e) {
                // The mirror moved it away meanwhile (a conflict copy, a replicated rename or delete).
                log.add("#" + n + " " + m.id + " append " + path + " (gone meanwhile, not counted)");
                return;
            }
            expected = old == null ? null : concat(old, content);
        } else {
            append = false;
            Files.write(file, content);
            expected = content;
        }
        touched(path, n, m);
        byte[] now = readOrNull(file);
        if (expected != null && Arrays.equals(now, expected)) {
            record(n, m, path, now, headBefore, append ? "append" : "write");
        } else {
            log.add("#" + n + " " + m.id + " " + (append ? "append " : "write ") + path + " (replaced meanwhile, not counted)");
        }
    }

    private void rename(FolderMirror m, String from, String to) throws IOException {
        int n = ++op;
        if (from.equals(to)) {
            log.add("#" + n + " " + m.id + " rename " + from + " onto itself: nothing");
            return;
        }
        long headBefore = heads().get(m.id);
        Path target = m.folder.resolve(to);
        Files.createDirectories(target.getParent());
        try {
            Files.move(m.folder.resolve(from), target, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException e) {
            log.add("#" + n + " " + m.id + " rename " + from + " -> " + to + ": no such file here");
            return;
        }
        touched(from, n, m);
        touched(to, n, m);
        byte[] now = readOrNull(target);
        if (now != null) {
            record(n, m, to, now, headBefore, "rename " + from + " ->");
        }
    }

    private void delete(FolderMirror m, String path) throws IOException {
        int n = ++op;
        boolean deleted = Files.deleteIfExists(m.folder.resolve(path));
        if (deleted) {
            touched(path, n, m);
        }
        log.add("#" + n + " " + m.id + " delete " + path + (deleted ? "" : ": no such file here"));
    }

    private void mkdir(FolderMirror m, String dir) throws IOException {
        int n = ++op;
        Files.createDirectories(m.folder.resolve(dir));
        log.add("#" + n + " " + m.id + " mkdir " + dir);
    }

    private void record(int n, FolderMirror m, String path, byte[] content, long headBefore, String what) {
        String sha = FolderDigest.sha256(content);
        writes.add(new Write(n, m.id, path, sha, headBefore));
        log.add("#" + n + " " + m.id + " " + what + " " + path + " " + sha.substring(0, 12) + " (" + content.length + " bytes)");
    }

    private void touched(String path, int n, FolderMirror m) {
        touches.computeIfAbsent(path, k -> new ArrayList<>()).add(new Touch(n, m.id, heads()));
    }

    /** Lets the mirrors catch up now and then: waits until each has scanned since {@code sinceMs}. */
    private void awaitScannedSince(long sinceMs) {
        Await.until(WAIT, () -> net.mirrors.stream()
                        .allMatch(m -> m.files.status().folders().get(0).lastScanAtMs() > sinceMs),
                () -> "seed " + seed + ": not every mirror scanned since " + sinceMs + ": " + net.describe());
    }

    private byte[] content(int n, String mirror, String path) {
        StringBuilder sb = new StringBuilder("#" + n + " by " + mirror + " at " + path + "\n");
        // Mostly small files; every fourth of 16-40 KB, several blocks, so that an append to it
        // travels as a block-list delta (and, when mirrors race, one whose base is not held).
        int length = random.nextInt(4) == 0 ? 16_000 + random.nextInt(24_000) : random.nextInt(4_000);
        for (int i = length; i > 0; i--) {
            sb.append((char) ('a' + random.nextInt(26)));
        }
        return sb.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    private <T> T pick(List<T> from) {
        return from.get(random.nextInt(from.size()));
    }

    private static byte[] readOrNull(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
