package org.activemirroring.files.sync;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;

import org.activemirroring.files.FolderEntry;

/**
 * Which of two concurrent versions of a file wins, and the name the loser is kept under. The rule
 * reads only the versions themselves, so every mirror decides alike whatever order it saw them in:
 * <ol>
 *   <li>a live file beats a tombstone (an edit concurrent with a delete wins);</li>
 *   <li>the newer modification time wins;</li>
 *   <li>then the higher id of the mirror that made the version;</li>
 *   <li>then the higher content hash.</li>
 * </ol>
 * The losing content is kept as {@code <name>.sync-conflict-<yyyyMMdd-HHmmss>-<mirror>.<ext>}
 * (Syncthing's naming), from the loser's modification time (UTC) and the mirror that made it, by
 * the mirror that holds it; the same loser gets the same name on every mirror, so copies never
 * pile up.
 */
public final class ConflictRule {

    /** What every conflict copy's name holds. */
    public static final String MARK = ".sync-conflict-";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    private static final int MAX_NAME_BYTES = 255;

    private static final Comparator<FolderEntry> ORDER = Comparator
            .comparing((FolderEntry e) -> !e.tombstone())
            .thenComparingLong(FolderEntry::mtimeMs)
            .thenComparing(e -> e.modifiedBy() == null ? "" : e.modifiedBy())
            .thenComparing(e -> e.sha256Hex() == null ? "" : e.sha256Hex());

    private ConflictRule() {
    }

    /** The winner of two concurrent versions (either argument order gives the same answer). */
    public static FolderEntry winner(FolderEntry a, FolderEntry b) {
        return ORDER.compare(a, b) >= 0 ? a : b;
    }

    /**
     * The relative path of the conflict copy of {@code path}'s version modified at {@code mtimeMs}
     * by {@code mirror}, in the same directory; the base name is shortened to fit 255 bytes.
     */
    public static String conflictPath(String path, long mtimeMs, String mirror) {
        int slash = path.lastIndexOf('/');
        String dir = slash < 0 ? "" : path.substring(0, slash + 1);
        String name = path.substring(slash + 1);
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        String tail = MARK + STAMP.format(Instant.ofEpochMilli(mtimeMs)) + "-" + (mirror == null ? "unknown" : mirror)
                + ext;
        while (!stem.isEmpty() && (stem + tail).getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            stem = stem.substring(0, stem.offsetByCodePoints(stem.length(), -1));
        }
        return dir + stem + tail;
    }
}
