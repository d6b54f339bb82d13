package org.activemirroring.sample;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.activemirroring.site.LostWriteListener;
import org.activemirroring.site.MirrorSite;

/**
 * A stand-in for the mirror a site runs in: its on-demand read finds files in another mirror's
 * upload folder (as the file-sync module would fetch them), and it keeps the lost-write listener
 * the site registers so the test can tell it of a lost write as the mirror would.
 */
final class FakeMirror implements MirrorSite {
    private final String id;
    private final String folder;
    private final Path peerFolder;
    final List<String> reads = new CopyOnWriteArrayList<>();
    volatile LostWriteListener listener;
    volatile boolean closed;

    FakeMirror(String id, String folder, Path peerFolder) {
        this.id = id;
        this.folder = folder;
        this.peerFolder = peerFolder;
    }

    @Override
    public String mirrorId() {
        return id;
    }

    @Override
    public Path openFile(String folderName, String path, Duration maxWait) throws FileNotFoundException {
        if (!folder.equals(folderName)) {
            throw new IllegalArgumentException("Unknown folder '" + folderName + "'");
        }
        reads.add(path);
        Path file = peerFolder.resolve(path);
        if (!Files.isRegularFile(file)) {
            throw new FileNotFoundException(path);
        }
        return file;
    }

    @Override
    public AutoCloseable onLostWrite(LostWriteListener l) {
        listener = l;
        closed = false;
        return () -> closed = true;
    }
}
