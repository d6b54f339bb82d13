package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

import org.activemirroring.files.FolderEntry;

/**
 * What a file looked like when it was indexed: size, mtime and file key (device and inode), the
 * same look the folder scanner trusts to skip reading a file. A file that still looks so holds
 * the blocks its index entry lists.
 *
 * @param size    bytes
 * @param mtimeMs last modification, in milliseconds
 * @param fileKey the file system's file key as text; never null (without one nothing is trusted)
 */
public record FileStamp(long size, long mtimeMs, String fileKey) {

    public FileStamp {
        Objects.requireNonNull(fileKey, "fileKey");
    }

    /** The stamp of an indexed file, or null when its entry has no file key (or is a tombstone). */
    static FileStamp of(FolderEntry e) {
        return e.tombstone() || e.fileKey() == null ? null : new FileStamp(e.size(), e.mtimeMs(), e.fileKey());
    }

    /** True when {@code file} (not followed if a symlink) still looks as stamped. */
    boolean matches(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() && a.size() == size && a.lastModifiedTime().toMillis() == mtimeMs
                    && a.fileKey() != null && fileKey.equals(a.fileKey().toString());
        } catch (IOException e) {
            return false;
        }
    }
}
