package org.activemirroring.files;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Turns a {@link FileChange} into the bytes of an envelope payload and back.
 *
 * <p>Format 1, big-endian ({@link DataOutputStream}): the format byte; the folder name and the
 * relative path (modified UTF-8); a flags byte (bit 0: tombstone; bit 1: block list left out, see
 * {@link FolderEntry#blocksElided()}); size, mtime (ms) and mode (-1:
 * none) as longs and an int; the content's SHA-256 (32 bytes, live files only); the block count
 * and per block its length (int) and SHA-256 (offsets follow from the lengths); the version
 * vector as a count and (mirror id, counter) pairs. Nothing else.
 *
 * <p>Format 2 is format 1 with the block list written as a {@link BlockListDelta} against an
 * earlier version of the file (a live file with content only, flags 0): in place of the block
 * count and blocks comes the delta. A receiver that holds the base takes the blocks from it; the
 * decoded entry has none ({@link FileChange#delta()} has them). Full entries stay in format 1, so
 * a journal written before deltas existed reads as it did.
 *
 * <p>Decoding checks everything a receiver relies on before anything is written: a safe path, blocks
 * that add up to the size, hashes of the right length, a version vector with positive counters,
 * bounds on every count, no trailing bytes. A payload that fails any check is refused whole with
 * {@link FileChangeFormatException} saying why.
 */
public final class FileChangeCodec {
    /** The format of a change with its whole block list (or none). */
    public static final byte FORMAT = 1;
    /** The format of a change whose block list is a {@link BlockListDelta}. */
    public static final byte DELTA_FORMAT = 2;
    /** At most this many blocks per file (1 TiB at the largest block size is 262,144). */
    static final int MAX_BLOCKS = 1 << 20;
    /** At most this many mirrors in a version vector. */
    static final int MAX_VERSIONS = 4096;
    private static final int HASH_BYTES = 32;
    private static final Pattern FOLDER_NAME = Pattern.compile("[a-z0-9_-]{1,64}");
    private static final HexFormat HEX = HexFormat.of();

    public byte[] encode(FileChange change) {
        FolderEntry e = change.entry();
        BlockListDelta delta = change.delta();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128 + 36 * e.blocks().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(delta == null ? FORMAT : DELTA_FORMAT);
            out.writeUTF(change.folder());
            out.writeUTF(e.path());
            out.writeByte(delta != null ? 0 : (e.tombstone() ? 1 : 0) | (e.blocksElided() ? 2 : 0));
            out.writeLong(e.size());
            out.writeLong(e.mtimeMs());
            out.writeInt(e.mode() == null ? -1 : e.mode());
            if (delta != null) {
                out.write(HEX.parseHex(e.sha256Hex()));
                delta.write(out);
            } else if (!e.tombstone()) {
                out.write(HEX.parseHex(e.sha256Hex()));
                out.writeInt(e.blocks().size());
                for (FolderEntry.BlockRef b : e.blocks()) {
                    out.writeInt(b.length());
                    out.write(HEX.parseHex(b.sha256Hex()));
                }
            }
            out.writeInt(e.versions().size());
            for (Map.Entry<String, Long> v : e.versions().entrySet()) {
                out.writeUTF(v.getKey());
                out.writeLong(v.getValue());
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(ex); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a payload written by {@link #encode}.
     *
     * @param origin the mirror it came from (the envelope's origin): the entry's {@code modifiedBy}, and
     *               named in the message of a refusal
     * @throws FileChangeFormatException when it is corrupt, of another format, or unsafe
     */
    public FileChange decode(byte[] payload, String origin) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
            byte format = in.readByte();
            if (format != FORMAT && format != DELTA_FORMAT) {
                throw refuse(origin, "format " + format + ", this mirror reads " + FORMAT + " and " + DELTA_FORMAT
                        + "; run the same ActiveMirroring release on every mirror");
            }
            boolean isDelta = format == DELTA_FORMAT;
            String folder = in.readUTF();
            if (!FOLDER_NAME.matcher(folder).matches()) {
                throw refuse(origin, "folder name '" + folder + "' is not 1-64 characters of [a-z0-9_-]");
            }
            String path = in.readUTF();
            String unsafe = FolderPaths.refusal(path);
            if (unsafe != null) {
                throw new FileChangeFormatException("Refused a file change from " + origin + ": path '"
                        + FolderPaths.printable(path) + "' of folder " + folder + " refused: " + unsafe
                        + "; nothing of it is applied", true);
            }
            byte flags = in.readByte();
            if ((flags & ~3) != 0 || flags == 3 || (isDelta && flags != 0)) {
                throw refuse(origin, "unknown flags " + flags + (isDelta ? " in a block-list delta" : "") + " for "
                        + folder + "/" + path);
            }
            boolean tombstone = (flags & 1) != 0;
            boolean elided = (flags & 2) != 0;
            long size = in.readLong();
            long mtime = in.readLong();
            int mode = in.readInt();
            if (size < 0 || (tombstone && size != 0) || mode < -1 || mode > 07777) {
                throw refuse(origin, "size " + size + " or mode " + mode + " of " + folder + "/" + path + " is impossible");
            }
            String sha = null;
            List<FolderEntry.BlockRef> blocks = List.of();
            BlockListDelta delta = null;
            if (isDelta) {
                if (size == 0) {
                    throw refuse(origin, "a block-list delta for the empty file " + folder + "/" + path);
                }
                sha = hash(in);
                delta = BlockListDelta.read(in, size, why -> refuse(origin, why + " for " + folder + "/" + path));
            } else if (!tombstone) {
                sha = hash(in);
                int count = in.readInt();
                if (count < 0 || count > MAX_BLOCKS || (elided ? count != 0 || size == 0 : (size == 0) != (count == 0))) {
                    throw refuse(origin, count + " blocks for " + size + " bytes of " + folder + "/" + path);
                }
                blocks = new ArrayList<>(count);
                long offset = 0;
                for (int i = 0; i < count; i++) {
                    int length = in.readInt();
                    if (length <= 0 || offset + length > size) {
                        throw refuse(origin, "block " + i + " of " + folder + "/" + path + " has length " + length
                                + " at offset " + offset + " of a " + size + "-byte file");
                    }
                    blocks.add(new FolderEntry.BlockRef(offset, length, hash(in)));
                    offset += length;
                }
                if (offset != size && !elided) {
                    throw refuse(origin, "the blocks of " + folder + "/" + path + " add up to " + offset + " bytes, not "
                            + size);
                }
            }
            int versionCount = in.readInt();
            if (versionCount < 1 || versionCount > MAX_VERSIONS) {
                throw refuse(origin, "version vector of " + versionCount + " entries for " + folder + "/" + path);
            }
            Map<String, Long> versions = new TreeMap<>();
            for (int i = 0; i < versionCount; i++) {
                String mirror = in.readUTF();
                long counter = in.readLong();
                if (mirror.isEmpty() || counter < 1 || versions.put(mirror, counter) != null) {
                    throw refuse(origin, "bad version vector entry '" + mirror + "'=" + counter + " for " + folder + "/"
                            + path);
                }
            }
            if (in.available() > 0) {
                throw refuse(origin, in.available() + " bytes after the end of the change of " + folder + "/" + path);
            }
            return new FileChange(folder, new FolderEntry(path, size, mtime, mode == -1 ? null : mode, null, sha, blocks,
                    versions, tombstone, origin), delta);
        } catch (EOFException e) {
            throw refuse(origin, "the payload ends early (" + payload.length + " bytes)");
        } catch (IOException e) {
            throw new FileChangeFormatException("Cannot read a file change from " + origin + ": " + e, e);
        }
    }

    private static String hash(DataInputStream in) throws IOException {
        byte[] h = new byte[HASH_BYTES];
        in.readFully(h);
        return HEX.formatHex(h);
    }

    private static FileChangeFormatException refuse(String origin, String why) {
        return new FileChangeFormatException("Refused a file change from " + origin + ": " + why
                + "; nothing of it is applied");
    }
}
