package org.activemirroring.files.sync;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeCodec;
import org.activemirroring.files.FileChangeFormatException;
import org.activemirroring.files.FolderEntry;

/**
 * Requests between mirrors about folders, beside the journal: a page of what a mirror knows of a
 * folder (a new mirror, or a folder new to a mirror, starts from it) and one path's entry (an
 * on-demand read of a file whose change has not arrived yet). Entries travel as
 * {@link FileChangeCodec} payloads, each with the mirror that made it; decoding is as strict.
 */
final class SyncWire {
    static final String SNAPSHOT_KIND = "files.snapshot";
    static final String ENTRY_KIND = "files.entry";
    private static final byte VERSION = 1;
    static final int MAX_PAGE = 2000;

    /** A page of a folder's entries, with the answering mirror's applied vector when it was read. */
    record Page(boolean done, Map<String, Long> vector, List<FolderEntry> entries) {
    }

    private SyncWire() {
    }

    static byte[] snapshotRequest(String folder, String after, int max) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeUTF(folder);
            out.writeUTF(after);
            out.writeInt(max);
        });
    }

    /** [folder, after, max]. */
    static Object[] readSnapshotRequest(byte[] body) throws IOException {
        try (DataInputStream in = in(body)) {
            version(in);
            String folder = in.readUTF();
            String after = in.readUTF();
            int max = in.readInt();
            if (max < 1 || max > MAX_PAGE) {
                throw new IOException("page size " + max + " is not between 1 and " + MAX_PAGE);
            }
            return new Object[] {folder, after, max};
        }
    }

    static byte[] page(String folder, String self, Page page, FileChangeCodec codec) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeBoolean(page.done());
            out.writeInt(page.vector().size());
            for (Map.Entry<String, Long> v : page.vector().entrySet()) {
                out.writeUTF(v.getKey());
                out.writeLong(v.getValue());
            }
            out.writeInt(page.entries().size());
            for (FolderEntry e : page.entries()) {
                entry(out, folder, self, e, codec);
            }
        });
    }

    static Page readPage(byte[] body, String from, FileChangeCodec codec, List<String> refused) throws IOException {
        try (DataInputStream in = in(body)) {
            version(in);
            boolean done = in.readBoolean();
            int n = in.readInt();
            if (n < 0 || n > 100_000) {
                throw new IOException("vector of " + n + " origins");
            }
            Map<String, Long> vector = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                vector.put(in.readUTF(), in.readLong());
            }
            int count = in.readInt();
            if (count < 0 || count > MAX_PAGE) {
                throw new IOException("page of " + count + " entries");
            }
            List<FolderEntry> entries = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                FolderEntry e = readEntry(in, from, codec, refused);
                if (e != null) {
                    entries.add(e);
                }
            }
            return new Page(done, vector, entries);
        }
    }

    static byte[] entryRequest(String folder, String path) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeUTF(folder);
            out.writeUTF(path);
        });
    }

    /** [folder, path]. */
    static String[] readEntryRequest(byte[] body) throws IOException {
        try (DataInputStream in = in(body)) {
            version(in);
            return new String[] {in.readUTF(), in.readUTF()};
        }
    }

    static byte[] entryReply(String folder, String self, FolderEntry e, FileChangeCodec codec) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeBoolean(e != null);
            if (e != null) {
                entry(out, folder, self, e, codec);
            }
        });
    }

    /** The entry in a reply, or null when the peer knows none (or it was refused: see {@code refused}). */
    static FolderEntry readEntryReply(byte[] body, String from, FileChangeCodec codec, List<String> refused)
            throws IOException {
        try (DataInputStream in = in(body)) {
            version(in);
            return in.readBoolean() ? readEntry(in, from, codec, refused) : null;
        }
    }

    private static void entry(DataOutputStream out, String folder, String self, FolderEntry e, FileChangeCodec codec)
            throws IOException {
        out.writeUTF(e.modifiedBy() == null ? self : e.modifiedBy());
        byte[] b = codec.encode(new FileChange(folder, e));
        out.writeInt(b.length);
        out.write(b);
    }

    private static FolderEntry readEntry(DataInputStream in, String from, FileChangeCodec codec, List<String> refused)
            throws IOException {
        String madeBy = in.readUTF();
        int len = in.readInt();
        if (len < 0 || len > 64 << 20) {
            throw new IOException("entry of " + len + " bytes");
        }
        byte[] b = new byte[len];
        in.readFully(b);
        try {
            FileChange c = codec.decode(b, madeBy);
            if (c.delta() != null) {
                // An answer names whole versions: a delta against a base the asker may not hold is no answer.
                refused.add("Refused an entry of " + c.folder() + "/" + c.entry().path() + " sent by " + from
                        + ": it came as a block-list delta where a whole entry is due");
                return null;
            }
            return c.entry();
        } catch (FileChangeFormatException ex) {
            refused.add(ex.getMessage() + " (sent by " + from + ")");
            return null;
        }
    }

    private static void version(DataInputStream in) throws IOException {
        byte v = in.readByte();
        if (v != VERSION) {
            throw new IOException("request format " + v + ", this mirror reads " + VERSION
                    + "; run the same ActiveMirroring release on every mirror");
        }
    }

    private static DataInputStream in(byte[] body) {
        return new DataInputStream(new ByteArrayInputStream(body));
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] write(Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
