package org.activemirroring.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The durable index of one folder, kept in the mirror's data directory: per relative path the
 * {@link FolderEntry}. Lookups by path; iteration sorted by path. Not thread-safe: one owner
 * (the folder's scan and apply loop) uses it.
 *
 * <p>Saving writes the whole index to a temp file ({@code .am-tmp-<file>-<random>}) in the same
 * directory, forces it to disk, renames it atomically over the index and forces the directory, so
 * after a crash the index is either the old or the new one, never half of either. Leftover temp
 * files are never read; {@link #load(Path)} deletes them.
 *
 * <p>Format (UTF-8, one record per line, fields separated by one space, version 1):
 * <pre>
 * activemirroring-folder-index 1
 * f &lt;path&gt; &lt;size&gt; &lt;mtimeMs&gt; &lt;mode octal|-&gt; &lt;fileKey|-&gt; &lt;sha256|-&gt; &lt;live|tomb&gt; &lt;versions|-&gt; &lt;blocks|-&gt; &lt;modifiedBy|-&gt;
 * end &lt;number of f lines&gt;
 * </pre>
 * versions are {@code mirror=counter,...}; blocks are {@code offset:length:sha256;...}. Text fields
 * (path, fileKey, mirror ids) are percent-encoded: every UTF-8 byte outside {@code [A-Za-z0-9._~/]}
 * becomes {@code %XX}, so no field holds a space, a separator, a newline or a lone {@code -}.
 * A file without its {@code end} line (truncated) or with a wrong count is refused.
 */
public final class FolderIndex {

    static final String HEADER = "activemirroring-folder-index";
    static final int FORMAT_VERSION = 1;
    /** Names of temp files written by this module start with this; scans skip them. */
    public static final String TEMP_PREFIX = ".am-tmp-";

    private final Path file;
    private final TreeMap<String, FolderEntry> entries = new TreeMap<>();
    /** Paths put or removed since the last save: what the next save appends to the log. */
    private final java.util.LinkedHashSet<String> changed = new java.util.LinkedHashSet<>();
    /** Lines in the log since the last full write. */
    private long logLines;
    /** The log is folded into a full write once it has this many lines, or as many as entries. */
    static final int MIN_COMPACT_LINES = 1000;

    private FolderIndex(Path file) {
        this.file = file;
    }

    /** Where the index of folder {@code folderName} lives under a mirror's data directory. */
    public static Path fileFor(Path dataDir, String folderName) {
        return dataDir.resolve("folders").resolve(folderName + ".index");
    }

    /** An empty index that will be saved to {@code file}; nothing is read. */
    public static FolderIndex empty(Path file) {
        return new FolderIndex(file);
    }

    /**
     * Loads the index from {@code file}; a missing file gives an empty index. Leftover temp files
     * of an interrupted save are deleted, never read.
     *
     * @throws FolderIndexException when the file is corrupt, truncated or of a newer format
     */
    public static FolderIndex load(Path file) throws IOException {
        FolderIndex index = new FolderIndex(file);
        deleteLeftoverTemps(file);
        if (!Files.exists(file)) {
            index.replayLog();
            return index;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new FolderIndexException(file, 0, "it is not UTF-8 text");
        }
        String[] lines = text.split("\n", -1);
        if (!text.endsWith("\n")) {
            throw new FolderIndexException(file, lines.length, "the last line has no newline (the file is truncated)");
        }
        if (!lines[0].startsWith(HEADER + " ")) {
            throw new FolderIndexException(file, 1, "it does not start with '" + HEADER + "'");
        }
        String version = lines[0].substring(HEADER.length() + 1);
        if (!version.equals(String.valueOf(FORMAT_VERSION))) {
            throw new FolderIndexException(file, 1, "format version '" + version + "' is not " + FORMAT_VERSION
                    + " (written by another version of ActiveMirroring?)");
        }
        boolean ended = false;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int lineNo = i + 1;
            if (ended) {
                if (!line.isEmpty() || i != lines.length - 1) {
                    throw new FolderIndexException(file, lineNo, "there is text after the 'end' line");
                }
                continue;
            }
            if (line.startsWith("end ")) {
                long count;
                try {
                    count = Long.parseLong(line.substring(4));
                } catch (NumberFormatException e) {
                    throw new FolderIndexException(file, lineNo, "bad 'end' line '" + line + "'");
                }
                if (count != index.entries.size()) {
                    throw new FolderIndexException(file, lineNo, "the 'end' line counts " + count
                            + " entries but there are " + index.entries.size());
                }
                ended = true;
                continue;
            }
            FolderEntry e;
            try {
                e = FolderIndexFormat.parse(line);
            } catch (RuntimeException ex) {
                throw new FolderIndexException(file, lineNo, "bad entry (" + ex.getMessage() + ")");
            }
            if (index.entries.put(e.path(), e) != null) {
                throw new FolderIndexException(file, lineNo, "path '" + e.path() + "' appears twice");
            }
        }
        if (!ended) {
            throw new FolderIndexException(file, lines.length, "the 'end' line is missing (the file is truncated)");
        }
        index.replayLog();
        return index;
    }

    static void deleteLeftoverTemps(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            return;
        }
        String glob = TEMP_PREFIX + file.getFileName() + "-*";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A copy of the entries, for a reader that must not see later changes (a scan); linear time. */
    public FolderIndex copy() {
        FolderIndex c = new FolderIndex(file);
        c.entries.putAll(entries); // from a sorted map of the same order: built in linear time
        return c;
    }

    /** The file this index is saved to. */
    public Path file() {
        return file;
    }

    /** The entry for {@code path}, or null. Tombstones are returned too. */
    public FolderEntry get(String path) {
        return entries.get(path);
    }

    /** Adds or replaces the entry for its path (in memory; {@link #save()} makes it durable). */
    public void put(FolderEntry entry) {
        entries.put(entry.path(), entry);
        changed.add(entry.path());
    }

    /** Forgets {@code path} altogether (e.g. an expired tombstone). */
    public void remove(String path) {
        if (entries.remove(path) != null) {
            changed.add(path);
        }
    }

    /** All entries, tombstones included, sorted by path; a read-only view. */
    public Collection<FolderEntry> entries() {
        return Collections.unmodifiableCollection(entries.values());
    }

    public int size() {
        return entries.size();
    }

    /**
     * Records a scan in the index: added and changed files become new versions of
     * {@code mirrorId}, deleted files tombstones of {@code mirrorId}; touched files (new mtime,
     * same content) only get their new stat. Files still being written are left for the next scan.
     */
    public void apply(FolderScanResult scan, String mirrorId) {
        for (FolderEntry e : scan.added()) {
            FolderEntry old = entries.get(e.path());
            put(e.withVersions(old == null ? Map.of() : old.versions()).bumped(mirrorId));
        }
        for (FolderEntry e : scan.changed()) {
            FolderEntry old = entries.get(e.path());
            put(e.withVersions(old == null ? Map.of() : old.versions()).bumped(mirrorId));
        }
        for (FolderEntry e : scan.touched()) {
            FolderEntry old = entries.get(e.path());
            put(old == null ? e.bumped(mirrorId)
                    : new FolderEntry(e.path(), e.size(), e.mtimeMs(), e.mode(), e.fileKey(), old.sha256Hex(),
                    old.blocks(), old.versions(), false, old.modifiedBy()));
        }
        for (String path : scan.deleted()) {
            FolderEntry old = entries.get(path);
            if (old != null && !old.tombstone()) {
                put(old.toTombstone(scan.scannedAtMs()).bumped(mirrorId));
            }
        }
    }

    /** Where the changes since the last full write are appended. */
    public Path logFile() {
        return file.resolveSibling(file.getFileName() + ".log");
    }

    /**
     * Makes what changed since the last save durable: appended to the log ({@code <index>.log}, one
     * line per changed path, fdatasync'ed), or, once the log is as long as the index, with a full
     * write ({@link #saveAll()}). The cost follows what changed, not the folder's size.
     */
    public void save() throws IOException {
        if (changed.isEmpty()) {
            return;
        }
        if (logLines + changed.size() >= Math.max(MIN_COMPACT_LINES, entries.size())) {
            saveAll();
            return;
        }
        StringBuilder sb = new StringBuilder(changed.size() * 160);
        for (String path : changed) {
            FolderEntry e = entries.get(path);
            if (e == null) {
                sb.append("r ").append(FolderIndexFormat.enc(path)).append('\n');
            } else {
                FolderIndexFormat.formatEntry(sb, e);
            }
        }
        Path log = logFile();
        Files.createDirectories(log.toAbsolutePath().getParent());
        boolean fresh = !Files.exists(log);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(false);
        }
        if (fresh) {
            forceDirectory(log.toAbsolutePath().getParent());
        }
        logLines += changed.size();
        changed.clear();
    }

    /** Writes the whole index durably (temp file, fsync, atomic rename, fsync of the directory) and empties the log. */
    public void saveAll() throws IOException {
        writeDurably(file, format().getBytes(StandardCharsets.UTF_8));
        // The log's lines are all in the index now; replaying them over it would change nothing,
        // so a crash before this delete is harmless.
        Files.deleteIfExists(logFile());
        forceDirectory(file.toAbsolutePath().getParent());
        logLines = 0;
        changed.clear();
    }

    /** Replaces {@code file} with {@code bytes} durably: temp file, fsync, atomic rename, fsync of the directory. */
    static void writeDurably(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(TEMP_PREFIX + file.getFileName() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        forceDirectory(dir);
    }

    private static void forceDirectory(Path dir) {
        // Makes the rename itself durable. Some platforms (Windows) cannot open a directory; there
        // the rename is as durable as the file system makes it, which is all we can do.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // see above
        }
    }

    String format() {
        StringBuilder sb = new StringBuilder(64 + entries.size() * 128);
        sb.append(HEADER).append(' ').append(FORMAT_VERSION).append('\n');
        for (FolderEntry e : entries.values()) {
            FolderIndexFormat.formatEntry(sb, e);
        }
        sb.append("end ").append(entries.size()).append('\n');
        return sb.toString();
    }

    /**
     * Replays the log over the loaded index. A last line without its newline is the end of an
     * append a crash cut: it was never acknowledged, and is left out.
     */
    private void replayLog() throws IOException {
        Path log = logFile();
        if (!Files.exists(log)) {
            return;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(log))).toString();
        } catch (CharacterCodingException e) {
            int cut = lastNewline(Files.readAllBytes(log));
            text = new String(Files.readAllBytes(log), 0, cut + 1, StandardCharsets.UTF_8);
        }
        String[] lines = text.split("\n", -1);
        int complete = lines.length - 1; // the last piece is "" after a newline, or a line a crash cut
        if (!lines[complete].isEmpty()) {
            // Cut the partial line away, so the next append starts on a line of its own.
            byte[] raw = Files.readAllBytes(log);
            try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
                ch.truncate(lastNewline(raw) + 1L);
                ch.force(false);
            }
        }
        for (int i = 0; i < complete; i++) {
            String line = lines[i];
            try {
                if (line.startsWith("r ")) {
                    entries.remove(FolderIndexFormat.dec(line.substring(2)));
                } else {
                    FolderEntry e = FolderIndexFormat.parse(line);
                    entries.put(e.path(), e);
                }
            } catch (RuntimeException ex) {
                throw new FolderIndexException(log, i + 1, "bad log entry (" + ex.getMessage() + ")");
            }
            logLines++;
        }
    }

    private static int lastNewline(byte[] b) {
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    static String enc(String s) {
        return FolderIndexFormat.enc(s);
    }

    static String dec(String s) {
        return FolderIndexFormat.dec(s);
    }
}
