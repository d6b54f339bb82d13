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
import org.activemirroring.files.sync.StandaloneNode;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportConfig;

/**
 * A folder-only mirror for the files benchmark: a real JGroups transport on 127.0.0.1 and the file
 * sync of one folder named {@value #FOLDER} ({@code <base>/<id>/u}), its applied vector kept by
 * {@link StandaloneDelivery} ({@link StandaloneNode}). The journal is not fsynced: neither is
 * rsync's destination, its reference.
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
    private final StandaloneNode node;

    private FolderNode(String id, Path folder, Path dataDir, FolderConfig.Folder config, StandaloneNode node) {
        this.node = node;
        this.id = id;
        this.folder = folder;
        this.dataDir = dataDir;
        this.config = config;
        this.transport = node.transport();
        this.files = node.files();
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
        StandaloneNode node = StandaloneNode.start(tc, fc, options, java.util.function.UnaryOperator.identity());
        return new FolderNode(tc.nodeId(), root, tc.dataDir(), fc.folder(FOLDER), node);
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
        node.close();
    }
}
