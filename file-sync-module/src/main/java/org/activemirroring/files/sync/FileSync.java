package org.activemirroring.files.sync;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeCodec;
import org.activemirroring.files.FileChangeFormatException;
import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.FolderSiblings;
import org.activemirroring.files.FolderPaths;
import org.activemirroring.files.transfer.BlockMap;
import org.activemirroring.files.transfer.BlockServer;
import org.activemirroring.files.transfer.BlockWire;
import org.activemirroring.files.transfer.DeltaServer;
import org.activemirroring.files.transfer.DeltaWire;
import org.activemirroring.files.transfer.FileAssembler;
import org.activemirroring.files.transfer.PeerRequests;
import org.activemirroring.files.transfer.TransferCounters;
import org.activemirroring.files.watch.FolderWatcher;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.PayloadReceiver;
import org.activemirroring.transport.PeerTransport;
import org.activemirroring.transport.Reply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated folders of one mirror, over its peer transport: the composition root of this
 * module.
 *
 * <ul>
 *   <li>Local changes: a watcher per folder asks for a scan a moment after something changed, and
 *       every folder is scanned periodically anyway (the scan is the truth, the watcher a hint);
 *       each change found is published on the journal ({@link FolderSync#scanAndPublish}).</li>
 *   <li>Other mirrors' changes arrive through {@link #receiver()}, which the mirror's delivery
 *       handler calls in order and records as applied after {@link PayloadReceiver#prepareCommit}
 *       made them durable: exactly once, with catch-up, as database changes.</li>
 *   <li>Wanted versions are written by a few worker threads, each file from blocks found here or
 *       fetched from the mirrors that hold them ({@link FileAssembler}).</li>
 *   <li>A folder this mirror has no index of yet (a new mirror, or a folder just configured) is
 *       first copied from a peer that has applied at least what this mirror has.</li>
 *   <li>{@link #open} reads a file, fetching it first when its version is known but not here yet.</li>
 * </ul>
 * Call {@link #create} before the transport connects (it registers request handlers), hand
 * {@link #receiver()} to the delivery handler, then {@link #start()} once delivery runs.
 */
public final class FileSync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileSync.class);

    private final String self;
    private final PeerTransport transport;
    private final Supplier<Map<String, Long>> appliedVector;
    private final FileSyncOptions options;
    private final Map<String, FolderSync> folders = new LinkedHashMap<>();
    private final Set<String> synced = ConcurrentHashMap.newKeySet();
    private final Map<String, FolderWatcher> watchers = new ConcurrentHashMap<>();
    private final BlockMap blocks = new BlockMap();
    private final BlockServer blockServer;
    private final DeltaServer deltaServer;
    private final FileAssembler assembler;
    private final Refusals refusals = new Refusals();
    private final FileChangeCodec codec = new FileChangeCodec();
    private final BlockListDeltas deltas = new BlockListDeltas(refusals);
    private final Set<FolderState> toSave = ConcurrentHashMap.newKeySet();
    private final Set<String> scansQueued = ConcurrentHashMap.newKeySet();
    /** Folders with a paced scan scheduled (see {@link #requestScanPaced}). */
    private final Set<String> scansPaced = ConcurrentHashMap.newKeySet();
    /** Watcher-triggered scans wait this many times the last scan's duration after it. */
    static final int SCAN_PACE = 4;
    private final Fetching fetching;
    private final PeerQueries queries = new PeerQueries(this);
    private final Path dataDir;
    /** The time scans are stamped with ({@link FolderSync#lastScanAtMs}); scan pacing reads it too. */
    private final Clock clock;
    private ScheduledExecutorService scans;
    private volatile boolean closed;
    /** A received version is wanted: the fetchers are woken when its delivery group is complete. */
    private volatile boolean fetchAfterGroup;

    private FileSync(FolderConfig config, Path dataDir, String self, PeerTransport transport,
                     Supplier<Map<String, Long>> appliedVector, FileSyncOptions options, Clock clock) throws IOException {
        this.self = self;
        this.dataDir = dataDir;
        this.clock = clock;
        this.transport = transport;
        this.appliedVector = appliedVector;
        this.options = options;
        for (FolderConfig.Folder f : config.folders()) {
            Path indexFile = FolderIndex.fileFor(dataDir, f.name());
            boolean known = Files.exists(syncedMarker(dataDir, f.name()));
            FolderIndex index = FolderIndex.load(indexFile);
            FolderIndex wanted = FolderIndex.load(indexFile.resolveSibling(f.name() + ".wanted"));
            FolderSiblings siblings = FolderSiblings.load(FolderSiblings.fileFor(dataDir, f.name()));
            FolderState state = new FolderState(f.name(), f.root(), self, index, wanted, siblings, blocks);
            FolderSync fs = new FolderSync(f, state, self, transport, clock, refusals);
            fs.onScanNeeded(() -> requestScan(f.name()));
            fs.onBlocksMissing((folder, path, sha256Hex) -> queries.lookupAtPeers(folder, path, sha256Hex));
            folders.put(f.name(), fs);
            if (known) {
                synced.add(f.name());
            }
        }
        this.blockServer = new BlockServer(blocks);
        this.deltaServer = new DeltaServer(blocks);
        PeerRequests peers = new PeerRequests() {
            @Override
            public List<String> peers() {
                List<String> p = new ArrayList<>(transport.members());
                p.remove(self);
                return p;
            }

            @Override
            public Reply request(String node, String kind, byte[] body, Duration timeout) throws Exception {
                return transport.requestReply(node, kind, body, timeout);
            }
        };
        this.assembler = new FileAssembler(blocks, peers, options.parallelRequests(), FileAssembler.DEFAULT_MAX_BATCH_BYTES,
                Duration.ofMillis(options.requestTimeoutMs()));
        this.fetching = new Fetching(this, options.parallelFiles());
    }

    /**
     * Loads the folders' indexes and registers this module's request handlers on {@code transport}
     * (call before it connects).
     *
     * @param appliedVector per origin, the highest seq this mirror has applied (a folder copied from
     *                      a peer is copied from one that has applied at least as much)
     */
    public static FileSync create(FolderConfig config, Path dataDir, String self, PeerTransport transport,
                                  Supplier<Map<String, Long>> appliedVector, FileSyncOptions options) throws IOException {
        FileSync s = new FileSync(config, dataDir, self, transport, appliedVector, options, Clock.systemUTC());
        transport.registerRequestHandler(BlockWire.KIND, s.blockServer);
        transport.registerRequestHandler(DeltaWire.KIND, s.deltaServer);
        transport.registerRequestHandler(SyncWire.SNAPSHOT_KIND, s.queries::answerSnapshot);
        transport.registerRequestHandler(SyncWire.ENTRY_KIND, s.queries::answerEntry);
        return s;
    }

    /**
     * Where the mark lives that a folder was copied from a peer (or started by the first mirror):
     * without it, a start copies the folder first.
     */
    static Path syncedMarker(Path dataDir, String folder) {
        return FolderIndex.fileFor(dataDir, folder).resolveSibling(folder + ".synced");
    }

    /** Records that a folder holds what the network holds (copied, or this mirror is the first). */
    void markSynced(String folder) throws IOException {
        Path m = syncedMarker(dataDir, folder);
        Files.createDirectories(m.getParent());
        if (!Files.exists(m)) {
            Files.write(m, new byte[0]);
        }
        synced.add(folder);
    }

    /**
     * Forgets that the folders were synced: this mirror copied its database again (a join), so
     * every folder is copied again from a peer too, before the mirror counts as synced. Call before
     * {@link #start()}.
     */
    public void forgetSynced() throws IOException {
        for (String name : folders.keySet()) {
            Files.deleteIfExists(syncedMarker(dataDir, name));
        }
        synced.clear();
    }

    /** Whether every folder is synced (copied from a peer once); a mirror serves only then. */
    public boolean synced() {
        return synced.size() == folders.size();
    }

    /** Takes other mirrors' file changes; give it to the delivery handler. */
    public PayloadReceiver receiver() {
        return new PayloadReceiver() {
            @Override
            public String payloadType() {
                return FileChange.PAYLOAD_TYPE;
            }

            @Override
            public void receive(Envelope envelope) {
                take(envelope);
            }

            @Override
            public void prepareCommit() throws IOException {
                for (FolderState s : List.copyOf(toSave)) {
                    s.save();
                    toSave.remove(s);
                }
                if (fetchAfterGroup) {
                    // Once the whole group is here: a rename's delete of the old name has arrived with
                    // its new name, so the file is moved rather than copied.
                    fetchAfterGroup = false;
                    fetching.kick();
                }
            }
        };
    }

    /** Starts watching, scanning and writing wanted files. */
    public synchronized void start() {
        scans = Executors.newSingleThreadScheduledExecutor(
                org.activemirroring.logging.LogContext.threads(self, "am-files-scan-" + self, false));
        for (FolderSync f : folders.values()) {
            String name = f.folder().name();
            if (options.watch()) {
                FolderWatcher w = new FolderWatcher(name, f.folder().root(),
                        dir -> f.folder().filter().excludesDirectory(FolderPaths.relative(f.folder().root(), dir)),
                        Duration.ofMillis(options.debounceMs()), () -> requestScanPaced(name), f::indexedAsOnDisk);
                watchers.put(name, w);
                w.start();
            }
            f.sweepPartials(); // before any fetch starts, so no transfer in progress is taken for a leftover
            scans.scheduleWithFixedDelay(() -> scanOrSync(f), 0, options.scanIntervalMs(), TimeUnit.MILLISECONDS);
        }
        // Files written by the fetch workers reach the saved index within a second (and with the
        // next delivery flush or scan): one save for many files.
        scans.scheduleWithFixedDelay(this::saveAll, 1, 1, TimeUnit.SECONDS);
        fetching.start();
    }

    /**
     * A scan the watcher asks for: at once, unless the folder's last scan started less than
     * {@code (1 + SCAN_PACE)} times its duration ago; then when that time is up. A small folder is
     * scanned right after each change; one that takes long to scan is scanned at most a fifth of
     * the time while changes keep coming (coalesced like {@link #requestScan}).
     */
    void requestScanPaced(String folder) {
        FolderSync f = folders.get(folder);
        if (f == null || closed) {
            return;
        }
        long last = f.lastScanAtMs();
        long wait = last == 0 ? 0 : last + f.lastScanMillis() * (1 + SCAN_PACE) - clock.millis();
        if (wait <= 0) {
            requestScan(folder);
            return;
        }
        if (!scansPaced.add(folder)) {
            return;
        }
        try {
            scans.schedule(() -> {
                scansPaced.remove(folder);
                requestScan(folder);
            }, wait, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            scansPaced.remove(folder);
        }
    }

    /** Asks for a scan of one folder soon (coalesced: one queued scan per folder at most). */
    public void requestScan(String folder) {
        FolderSync f = folders.get(folder);
        if (f == null || closed || !scansQueued.add(folder)) {
            return;
        }
        try {
            scans.execute(() -> {
                scansQueued.remove(folder);
                scanOrSync(f);
            });
        } catch (RejectedExecutionException e) {
            scansQueued.remove(folder);
        }
    }

    /**
     * Scans every folder now and publishes what changed, on the caller's thread (folders not synced
     * yet are skipped). For tests and tools; running ones scan by themselves.
     *
     * @return changes published
     */
    public int scanNow() throws Exception {
        if (scans == null) {
            int n = 0;
            for (FolderSync f : folders.values()) {
                if (synced.contains(f.folder().name())) {
                    n += f.scanAndPublish();
                }
            }
            return n;
        }
        int[] n = new int[1];
        Exception[] failure = new Exception[1];
        scans.submit(() -> {
            for (FolderSync f : folders.values()) {
                if (synced.contains(f.folder().name())) {
                    try {
                        n[0] += f.scanAndPublish();
                    } catch (Exception e) {
                        failure[0] = e;
                    }
                }
            }
        }).get();
        if (failure[0] != null) {
            throw failure[0];
        }
        return n[0];
    }

    private void saveAll() {
        for (FolderSync f : folders.values()) {
            try {
                f.state().save();
            } catch (IOException e) {
                LOG.warn("Cannot save the index of folder '{}' ({}); tried again in a second",
                        f.folder().name(), e.toString());
            }
        }
    }

    private void scanOrSync(FolderSync f) {
        String name = f.folder().name();
        try {
            if (!synced.contains(name)) {
                if (!FolderCopy.copyFromPeer(this, f)) {
                    scans.schedule(() -> requestScan(name), 2, TimeUnit.SECONDS);
                    return;
                }
                markSynced(name);
                fetching.kick();
            }
            f.scanAndPublish();
        } catch (Exception e) {
            if (!closed) {
                LOG.warn("Scanning folder '{}' failed ({}); the next scan tries again", name,
                        e.toString());
            }
        }
    }

    /** Takes one received file change (see {@link #receiver()}). */
    private void take(Envelope envelope) {
        FileChange change;
        try {
            change = codec.decode(envelope.payload(), envelope.origin());
        } catch (FileChangeFormatException e) {
            refusals.refuse(envelope.origin(), "?", e.unsafePath() ? "unsafe-path" : "unreadable", null, e.getMessage());
            return;
        }
        FolderEntry e = change.entry();
        FolderSync f = folders.get(change.folder());
        if (f != null) {
            e = deltas.resolve(f.state(), change, envelope.origin());
            if (e == null) {
                return; // refused
            }
        }
        if (offer(envelope.origin(), change.folder(), e, false) == FolderState.Outcome.WANTED) {
            fetchAfterGroup = true;
        }
    }

    /** Merges one version made elsewhere into a folder, refusing what this mirror cannot hold. */
    FolderState.Outcome offer(String from, String folderName, FolderEntry e) {
        return offer(from, folderName, e, true);
    }

    /** As {@link #offer(String, String, FolderEntry)}; {@code fetchNow} false leaves waking the fetchers to the caller. */
    private FolderState.Outcome offer(String from, String folderName, FolderEntry e, boolean fetchNow) {
        FolderSync f = folders.get(folderName);
        if (f == null) {
            refusals.refuse(from, folderName, "unknown-folder", e.path(), "no folder of that name is configured here;"
                    + " add it to mirror.folders on this mirror to replicate it");
            return FolderState.Outcome.IGNORED;
        }
        FolderConfig.Folder folder = f.folder();
        String unsafe = FolderPaths.refusal(e.path(), folder.root().getFileSystem());
        if (unsafe != null) {
            refusals.refuse(from, folderName, "unsafe-path", e.path(), unsafe);
            return FolderState.Outcome.IGNORED;
        }
        if (!e.tombstone() && e.size() > folder.maxFileBytes()) {
            refusals.refuse(from, folderName, "too-large", e.path(), e.size() + " bytes is above "
                    + FolderConfig.key(FolderConfig.MAX_FILE_BYTES, folderName) + "=" + folder.maxFileBytes()
                    + " here; raise it on this mirror to take such files");
            return FolderState.Outcome.IGNORED;
        }
        if (!folder.filter().includes(e.path())) {
            return FolderState.Outcome.IGNORED; // this mirror's include/exclude leave it out
        }
        FolderState.Outcome o = f.state().offer(e);
        toSave.add(f.state());
        if (o == FolderState.Outcome.WANTED && fetchNow) {
            fetching.kick();
        }
        return o;
    }

    /**
     * Opens a file of a replicated folder for reading. When its version is known here but not
     * written yet (or, failing that, a peer knows it), it is fetched first, waiting at most
     * {@code maxWait}; its fetch goes before the others.
     *
     * @return the file's path, its content complete and verified
     * @throws FileNotFoundException when no mirror knows it, or it did not arrive within the wait
     */
    public Path open(String folder, String path, Duration maxWait) throws IOException, InterruptedException {
        return new OnDemandRead(this, queries, fetching).open(folder, path, maxWait);
    }

    /** What this mirror's fetches moved since start: block and delta requests, their bytes on the wire. */
    public TransferCounters transferCounters() {
        return assembler.counters();
    }

    /** How the changes received with a block-list delta went since start (see {@link BlockListDeltas}). */
    public BlockListDeltas.Counts blockListDeltas() {
        return deltas.counts();
    }

    /** What the folders are doing. */
    public FileSyncStatus status() {
        List<FileSyncStatus.Folder> out = new ArrayList<>();
        for (FolderSync f : folders.values()) {
            FolderState s = f.state();
            FolderWatcher w = watchers.get(f.folder().name());
            out.add(new FileSyncStatus.Folder(f.folder().name(), f.folder().root().toString(), s.fileCount(),
                    s.wantedCount(), synced.contains(f.folder().name()), w != null && w.watching(), f.lastScanAtMs(),
                    f.lastScanMillis(), f.scans(), w == null ? 0 : w.knownOnly(), f.published(), s.conflictCopies(),
                    f.stillWriting(), s.siblingCount()));
        }
        return new FileSyncStatus(out, assembler.bytesFetched(), assembler.bytesFromLocal(),
                blockServer.blocksServed(), blockServer.bytesServed(), assembler.blocksRefused(), refusals.counts(), refusals.last(),
                deltas.counts(), assembler.counters().bytesBuiltByDelta());
    }

    /** True when every folder is synced and nothing is wanted. */
    public boolean settled() {
        return status().settled();
    }

    boolean isSynced(String folder) {
        return synced.contains(folder);
    }

    String self() {
        return self;
    }

    PeerTransport transport() {
        return transport;
    }

    Map<String, Long> appliedVector() {
        return appliedVector.get();
    }

    FileSyncOptions options() {
        return options;
    }

    Refusals refusals() {
        return refusals;
    }

    FileChangeCodec codec() {
        return codec;
    }

    FileAssembler assembler() {
        return assembler;
    }

    Map<String, FolderSync> folders() {
        return folders;
    }

    boolean closed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        watchers.values().forEach(FolderWatcher::close);
        if (scans != null) {
            scans.shutdownNow();
            try {
                scans.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        fetching.close();
        assembler.close();
        for (FolderSync f : folders.values()) {
            try {
                f.state().save();
            } catch (IOException e) {
                LOG.warn("Cannot save folder '{}' on close: {}", f.folder().name(), e.toString());
            }
        }
    }
}
