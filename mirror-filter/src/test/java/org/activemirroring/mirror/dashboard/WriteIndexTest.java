package org.activemirroring.mirror.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeCodec;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

class WriteIndexTest {
    private static final ChangeSetCodec CHANGES = new ChangeSetCodec();
    private static final FileChangeCodec FILES = new FileChangeCodec();

    /** A journal of this mirror's own envelopes, seq i at index i - 1, from {@code first} on. */
    private static final class Journal implements WriteIndex.OwnJournal {
        final List<Envelope> all = new ArrayList<>();
        long first = 1;
        int reads;

        void row(String table) {
            long seq = all.size() + 1;
            ChangeSet cs = new ChangeSet("a", seq, seq, 0, 0, List.of(new RowChange(table, RowChange.Op.INSERT,
                    Map.of("id", "1"), Map.of("id", "1"), null, List.of())));
            add(ChangeSet.PAYLOAD_TYPE, CHANGES.encode(cs));
        }

        void file(String folder) {
            FolderEntry e = new FolderEntry("x.txt", 0, 5, null, null, null, List.of(), Map.of("a", 1L), true);
            add(FileChange.PAYLOAD_TYPE, FILES.encode(new FileChange(folder, e)));
        }

        void add(String type, byte[] payload) {
            all.add(new Envelope(Envelope.FORMAT_VERSION, "a", all.size() + 1, new byte[Envelope.HASH_LENGTH], type,
                    payload, new byte[0]));
        }

        @Override
        public long head() {
            return all.size();
        }

        @Override
        public long first() {
            return all.isEmpty() ? 0 : first;
        }

        @Override
        public List<Envelope> read(long fromSeq, int max) {
            reads++;
            List<Envelope> out = new ArrayList<>();
            for (long s = Math.max(fromSeq, first); s <= all.size() && out.size() < max; s++) {
                if (s != fromSeq + out.size()) {
                    break;
                }
                out.add(all.get((int) s - 1));
            }
            return out;
        }
    }

    @Test
    void remembersTheLastOwnWriteOfEachTableAndFolder() {
        Journal j = new Journal();
        j.row("public.items");
        j.row("public.comments");
        j.file("uploads");
        j.row("public.items");
        WriteIndex index = new WriteIndex(j, 100);
        WriteIndex.Snapshot s = index.refresh();
        assertEquals(Map.of("table:public.items", 4L, "table:public.comments", 2L, "folder:uploads", 3L), s.heads());
        assertEquals(0, s.baseline());
        j.row("public.comments");
        assertEquals(5L, index.refresh().heads().get("table:public.comments"));
    }

    @Test
    void writesBeyondTheWindowBecomeTheBaseline() {
        Journal j = new Journal();
        for (int i = 0; i < 10; i++) {
            j.row(i == 0 ? "public.old" : "public.items");
        }
        WriteIndex.Snapshot s = new WriteIndex(j, 4).refresh();
        assertEquals(6, s.baseline());
        assertEquals(Map.of("table:public.items", 10L), s.heads());
    }

    @Test
    void anUnreadableOrPrunedWriteCountsAsTouchingEverything() {
        Journal j = new Journal();
        j.row("public.items");
        j.add(ChangeSet.PAYLOAD_TYPE, "not a change set".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        j.row("public.comments");
        WriteIndex index = new WriteIndex(j, 100);
        WriteIndex.Snapshot s = index.refresh();
        assertEquals(2, s.baseline());
        assertEquals(3L, s.heads().get("table:public.comments"));

        j.row("public.items");
        j.row("public.items");
        j.first = 6; // retention pruned #4 and #5 before they were read
        j.row("public.tags");
        s = index.refresh();
        assertEquals(5, s.baseline(), "pruned before they were read: they may have touched anything");
        assertEquals(6L, s.heads().get("table:public.tags"));
    }
}
