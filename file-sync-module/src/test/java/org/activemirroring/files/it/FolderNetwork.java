package org.activemirroring.files.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;

/**
 * N folder-only mirrors ({@link FolderMirror}) of one test, on real JGroups over 127.0.0.1, each
 * with its folder and data directory under {@code base/<id>}. Closing it stops every mirror still
 * running.
 */
final class FolderNetwork implements AutoCloseable {
    final Path base;
    final String cluster = "files-" + System.nanoTime();
    final List<Integer> ports = new ArrayList<>();
    final List<FolderMirror> mirrors = new ArrayList<>();
    private final FileSyncOptions options;

    private FolderNetwork(Path base, FileSyncOptions options) {
        this.base = base;
        this.options = options;
    }

    /** Starts {@code n} mirrors m1..mn and waits until each sees all and has its folder synced. */
    static FolderNetwork start(Path base, int n, FileSyncOptions options, Duration wait) throws Exception {
        FolderNetwork net = new FolderNetwork(base, options);
        try {
            for (int i = 0; i < n; i++) {
                net.ports.add(MirrorSettings.freeTransportPort());
            }
            for (int i = 0; i < n; i++) {
                net.mirrors.add(FolderMirror.start(net.settings(i), options));
            }
            for (FolderMirror m : net.mirrors) {
                Await.until(wait, () -> m.transport.members().size() == n && m.files.synced(),
                        () -> m.id + " sees " + m.transport.members() + ", synced " + m.files.synced());
            }
        } catch (Exception | AssertionError e) {
            net.close();
            throw e;
        }
        return net;
    }

    Map<String, String> settings(int i) {
        return FolderMirror.settings("m" + (i + 1), base, ports.get(i), ports, cluster);
    }

    FolderMirror get(int i) {
        return mirrors.get(i);
    }

    /** Where mirror {@code i} keeps its index and applied vector. */
    Path dataDir(int i) {
        return Path.of(settings(i).get("mirror.data.dir"));
    }

    /**
     * Stops mirror {@code i}, runs {@code whileStopped} (e.g. to forget what it applied), and
     * starts it again on the same folder and data directory; waits until it sees every mirror.
     */
    FolderMirror restart(int i, Runnable whileStopped, Duration wait) throws Exception {
        mirrors.get(i).close();
        whileStopped.run();
        FolderMirror m = FolderMirror.start(settings(i), options);
        mirrors.set(i, m);
        Await.until(wait, () -> m.transport.members().size() == mirrors.size() && m.files.synced(),
                () -> m.id + " sees " + m.transport.members() + " after its restart");
        return m;
    }

    /**
     * Waits until every mirror is settled (synced, nothing wanted) and every folder holds the same
     * files with the same content. With {@code scanEachTime}, every mirror scans before each look
     * (for mirrors that do not watch: a conflict copy is published by a scan).
     */
    void awaitSame(Duration wait, boolean scanEachTime) {
        Await.until(wait, () -> {
            if (scanEachTime) {
                for (FolderMirror m : mirrors) {
                    m.files.scanNow();
                }
            }
            for (FolderMirror m : mirrors) {
                if (!m.files.status().settled()) {
                    return false; // cheap first: no digest while files are still wanted
                }
            }
            Map<String, String> first = FolderDigest.of(mirrors.get(0).folder);
            for (FolderMirror m : mirrors.subList(1, mirrors.size())) {
                if (!FolderDigest.of(m.folder).equals(first)) {
                    return false;
                }
            }
            return true;
        }, this::describe);
    }

    /** Every mirror's status and (for small folders) digest, for failure messages. */
    String describe() {
        StringBuilder sb = new StringBuilder("folders differ:");
        Map<String, String> first = FolderDigest.safe(mirrors.get(0).folder);
        for (FolderMirror m : mirrors) {
            Map<String, String> d = FolderDigest.safe(m.folder);
            sb.append("\n ").append(m.id).append(' ').append(m.files.status()).append("\n  ").append(d.size())
                    .append(" files");
            if (d.size() <= 50) {
                sb.append(' ').append(d);
            } else {
                sb.append(", differing from ").append(mirrors.get(0).id).append(": ").append(diff(first, d));
            }
        }
        return sb.toString();
    }

    private static String diff(Map<String, String> a, Map<String, String> b) {
        List<String> out = new ArrayList<>();
        for (var e : a.entrySet()) {
            if (!e.getValue().equals(b.get(e.getKey()))) {
                out.add(e.getKey());
            }
        }
        for (String k : b.keySet()) {
            if (!a.containsKey(k)) {
                out.add(k);
            }
        }
        return out.size() + " " + out.subList(0, Math.min(out.size(), 20));
    }

    @Override
    public void close() {
        for (FolderMirror m : mirrors) {
            try {
                m.close();
            } catch (RuntimeException e) {
                // keep closing the others; the test's own failure is the one to report
            }
        }
    }
}
