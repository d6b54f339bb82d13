package org.activemirroring.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The losing siblings of a folder's paths: versions of a path that no version known here has seen
 * (concurrent with the winner and with each other) but that lost under the conflict rule. They are
 * kept, not merged into the winner, so that every mirror decides among the same set of versions
 * whatever order it learnt them in: a version that arrives later may supersede the winner but not
 * a sibling, and the sibling may win then. A path has siblings only between a conflict and the next
 * version made by a mirror that saw them all; so the file is small and is written whole.
 *
 * <p>Durable at {@code <data>/folders/<name>.siblings}: a header line, one index line per sibling
 * (the format of {@link FolderIndex}, so a path may appear more than once), {@code end <count>}.
 * Written through a temp file, fsync and atomic rename; a corrupt file is refused with why.
 */
public final class FolderSiblings {
    static final String HEADER = "activemirroring-folder-siblings";
    static final int FORMAT_VERSION = 1;

    private final Path file;
    private final TreeMap<String, List<FolderEntry>> byPath = new TreeMap<>();
    private int count;
    private boolean dirty;

    private FolderSiblings(Path file) {
        this.file = file;
    }

    /** Where folder {@code folderName}'s siblings live under a mirror's data directory. */
    public static Path fileFor(Path dataDir, String folderName) {
        return dataDir.resolve("folders").resolve(folderName + ".siblings");
    }

    /** Siblings that will be saved to {@code file}; nothing is read. */
    public static FolderSiblings empty(Path file) {
        return new FolderSiblings(file);
    }

    /**
     * Loads the siblings saved at {@code file}; a missing file means none.
     *
     * @throws FolderIndexException when the file is corrupt, truncated or of a newer format
     */
    public static FolderSiblings load(Path file) throws IOException {
        FolderSiblings s = new FolderSiblings(file);
        FolderIndex.deleteLeftoverTemps(file);
        if (!Files.exists(file)) {
            return s;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new FolderIndexException(file, 0, "it is not UTF-8 text");
        }
        String[] lines = text.split("\n", -1);
        if (!text.endsWith("\n") || lines.length < 3) {
            throw new FolderIndexException(file, lines.length, "it is truncated");
        }
        if (!lines[0].equals(HEADER + " " + FORMAT_VERSION)) {
            throw new FolderIndexException(file, 1, "it does not start with '" + HEADER + " " + FORMAT_VERSION
                    + "' (written by another version of ActiveMirroring?)");
        }
        int last = lines.length - 2; // lines[length - 1] is "" after the final newline
        for (int i = 1; i < last; i++) {
            try {
                s.add(FolderIndexFormat.parse(lines[i]));
            } catch (RuntimeException ex) {
                throw new FolderIndexException(file, i + 1, "bad entry (" + ex.getMessage() + ")");
            }
        }
        if (!lines[last].equals("end " + s.count)) {
            throw new FolderIndexException(file, last + 1, "expected 'end " + s.count + "', found '" + lines[last]
                    + "' (the file is truncated)");
        }
        return s;
    }

    private void add(FolderEntry e) {
        byPath.computeIfAbsent(e.path(), k -> new ArrayList<>(2)).add(e);
        count++;
    }

    /** The losing siblings of {@code path}; empty when it has none. */
    public List<FolderEntry> of(String path) {
        List<FolderEntry> l = byPath.get(path);
        return l == null ? List.of() : Collections.unmodifiableList(l);
    }

    /** Replaces the siblings of {@code path} (an empty list removes them); in memory until {@link #save()}. */
    public void set(String path, List<FolderEntry> siblings) {
        List<FolderEntry> old = byPath.remove(path);
        if (old != null) {
            count -= old.size();
            dirty = true;
        }
        if (!siblings.isEmpty()) {
            byPath.put(path, new ArrayList<>(siblings));
            count += siblings.size();
            dirty = true;
        }
    }

    /** Every path that has siblings, with them; sorted by path. */
    public Map<String, List<FolderEntry>> all() {
        return Collections.unmodifiableMap(byPath);
    }

    /** How many siblings are kept, over all paths. */
    public int size() {
        return count;
    }

    /** Writes the siblings durably if they changed since the last save. */
    public void save() throws IOException {
        if (!dirty) {
            return;
        }
        StringBuilder sb = new StringBuilder(64 + count * 160);
        sb.append(HEADER).append(' ').append(FORMAT_VERSION).append('\n');
        for (List<FolderEntry> l : byPath.values()) {
            for (FolderEntry e : l) {
                FolderIndexFormat.formatEntry(sb, e);
            }
        }
        sb.append("end ").append(count).append('\n');
        FolderIndex.writeDurably(file, sb.toString().getBytes(StandardCharsets.UTF_8));
        dirty = false;
    }
}
