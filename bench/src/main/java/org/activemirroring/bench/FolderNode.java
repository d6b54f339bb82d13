package org.activemirroring.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.sync.FileSync;
import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.files.sync.FileSyncStatus;
import org.activemirroring.files.sync.StandaloneDelivery;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportConfig;

/**
 * A folder-only mirror for the files benchmark: a real JGroups transport on 127.0.0.1 and the file
 * sync of one folder named {@value #FOLDER} ({@code <base>/<id>/u}), its applied vector kept by
 * {@link StandaloneDelivery}. The same wiring as file-sync-module's test harness (bench cannot use
 * test classes). The journal is not fsynced: neither is rsync's destination, its reference.
 */
final class FolderNode implements AutoCloseable {
    /** The replicated folder's name. */
    static final String FOLDER = "u";

    final String id;
    final Path folder;
    final Path dataDir;
    final FolderConfig.Folder config;
    final JGroupsPeerTransport transport;
    final FileSync files;

    private FolderNode(String id, Path folder, Path dataDir, FolderConfig.Folder config, JGroupsPeerTransport transport,
                       FileSync files) {
        this.id = id;
        this.folder = folder;
        this.dataDir = dataDir;
        this.config = config;
        this.transport = transport;
        this.files = files;
    }

    /** The folder of node {@code id} under {@code base}, to fill before the node starts. */
    static Path folderOf(Path base, String id) {
        return base.resolve(id).resolve(FOLDER);
    }

    /**
     * Starts node {@code id} with its folder and data under {@code base/id}, bound to {@code port}
     * and looking for peers on {@code allPorts} (its own included).
     */
    static FolderNode start(String id, Path base, int port, List<Integer> allPorts, String cluster,
                            FileSyncOptions options) throws Exception {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.node.id", id);
        raw.put("mirror.data.dir", base.resolve(id).resolve("data").toString());
        raw.put("mirror.bind.port", Integer.toString(port));
        List<String> peers = new ArrayList<>();
        allPorts.forEach(p -> peers.add("127.0.0.1:" + p));
        raw.put("mirror.peers", String.join(",", peers));
        raw.put("mirror.cluster.name", cluster);
        raw.put("mirror.journal.fsync", "false");
        raw.put("mirror.folders", FOLDER);
        raw.put("mirror.folder." + FOLDER + ".path", folderOf(base, id).toString());
        List<String> problems = new ArrayList<>();
        TransportConfig tc = TransportConfig.from(raw, problems);
        Path root = Path.of(raw.get("mirror.folder." + FOLDER + ".path"));
        Files.createDirectories(root);
        FolderConfig fc = FolderConfig.from(raw, root.getParent(), problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Bad settings for the benchmark's folder node '" + id + "': " + problems);
        }
        JGroupsPeerTransport t = new JGroupsPeerTransport(tc);
        FileSync[] files = new FileSync[1];
        StandaloneDelivery[] delivery = new StandaloneDelivery[1];
        try {
            // FileSync asks for the applied vector only once delivery runs; until then it is empty.
            files[0] = FileSync.create(fc, tc.dataDir(), tc.nodeId(), t,
                    () -> delivery[0] == null ? Map.of() : delivery[0].applied(), options);
            delivery[0] = new StandaloneDelivery(tc.dataDir(), List.of(files[0].receiver()));
            t.start(delivery[0], delivery[0].applied());
            files[0].start();
        } catch (Exception | Error e) {
            if (files[0] != null) {
                files[0].close();
            }
            t.close();
            throw e;
        }
        return new FolderNode(tc.nodeId(), root, tc.dataDir(), fc.folder(FOLDER), t, files[0]);
    }

    /** The status of the one folder. */
    FileSyncStatus.Folder folderStatus() {
        return files.status().folders().get(0);
    }

    /** Where the folder's index is saved (read by the scan check, which loads it with {@link FolderIndex#load}). */
    Path indexFile() {
        return FolderIndex.fileFor(dataDir, FOLDER);
    }

    @Override
    public void close() {
        try {
            files.close();
        } finally {
            transport.close();
        }
    }
}
