package org.activemirroring.files.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.sync.FileSync;
import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.files.sync.StandaloneDelivery;
import org.activemirroring.files.sync.StandaloneNode;
import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.NotYetDeliverableException;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportConfig;

/**
 * A folder-only mirror for tests: a real JGroups transport on 127.0.0.1 and the file sync of one
 * folder named "u", with its applied vector kept by {@link StandaloneDelivery}.
 */
final class FolderMirror implements AutoCloseable {
    final String id;
    final Path folder;
    final JGroupsPeerTransport transport;
    final FileSync files;
    final StandaloneDelivery delivery;
    /** While true, envelopes of other mirrors wait (as a mirror whose delivery lags). */
    static final java.util.Set<String> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private FolderMirror(String id, Path folder, JGroupsPeerTransport transport, FileSync files,
                         StandaloneDelivery delivery) {
        this.id = id;
        this.folder = folder;
        this.transport = transport;
        this.files = files;
        this.delivery = delivery;
    }

    /** Settings of one mirror of a test network. */
    static Map<String, String> settings(String id, Path base, int port, List<Integer> allPorts, String cluster) {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.node.id", id);
        raw.put("mirror.data.dir", base.resolve(id).resolve("data").toString());
        raw.put("mirror.bind.port", Integer.toString(port));
        List<String> peers = new ArrayList<>();
        allPorts.forEach(p -> peers.add("127.0.0.1:" + p));
        raw.put("mirror.peers", String.join(",", peers));
        raw.put("mirror.cluster.name", cluster);
        raw.put("mirror.journal.fsync", "false");
        raw.put("mirror.transport.request.timeout.ms", "5000");
        raw.put("mirror.transport.catchup.interval.ms", "500");
        raw.put("mirror.folders", "u");
        raw.put("mirror.folder.u.path", base.resolve(id).resolve("u").toString());
        return raw;
    }

    static FolderMirror start(Map<String, String> raw, FileSyncOptions options) throws Exception {
        List<String> problems = new ArrayList<>();
        TransportConfig tc = TransportConfig.from(raw, problems);
        Path root = Path.of(raw.get("mirror.folder.u.path"));
        Files.createDirectories(root);
        FolderConfig fc = FolderConfig.from(raw, root.getParent(), problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.toString());
        }
        String id = tc.nodeId();
        StandaloneNode node = StandaloneNode.start(tc, fc, options, d -> new DeliveryHandler() {
            @Override
            public void deliver(Envelope e) throws Exception {
                if (HELD.contains(id)) {
                    throw new NotYetDeliverableException(id + " holds delivery");
                }
                d.deliver(e);
            }

            @Override
            public void flush() throws Exception {
                d.flush();
            }

            @Override
            public Map<String, Long> restartFrom() throws Exception {
                return d.restartFrom();
            }
        });
        return new FolderMirror(id, root, node.transport(), node.files(), node.delivery());
    }

    @Override
    public void close() {
        files.close();
        transport.close();
    }
}
