package org.activemirroring.sample.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.activemirroring.sample.account.LostRegistrations.AccountStore;
import org.activemirroring.sample.account.LostRegistrations.AccountTable;
import org.activemirroring.sample.account.LostRegistrations.Restored;
import org.activemirroring.site.LostWrite;
import org.junit.jupiter.api.Test;

class LostRegistrationsTest {
    private final Tables db = new Tables();
    private final LostRegistrations listener = new LostRegistrations("m1", "public.account", db);

    private static LostWrite lost(long conflictId, String row) {
        return new LostWrite(conflictId, Instant.parse("2026-12-01T10:00:00Z"), "unique", "public.account",
                Map.of("id", "17"), row, "{\"id\":\"4\",\"user_name\":\"mara\"}", "m2");
    }

    private static final String ROW = "{\"id\":\"17\",\"user_name\":\"mara\",\"email\":\"m@example.org\","
            + "\"password_hash\":\"pbkdf2-sha256$1000$AA$BB\",\"created_at\":\"2026-12-01 10:00:00+00\"}";

    @Test
    void restoresTheLosingAccountUnderAFreeNameWithItsIdHashAndEmail() throws Exception {
        db.accounts.put(4L, "mara");
        db.accounts.put(5L, "mara-2");
        listener.lost(lost(9, ROW));
        assertEquals("mara-3", db.accounts.get(17L), "the lost id again, under the first free name: " + db.accounts);
        assertEquals(List.of("17|mara-3|m@example.org|pbkdf2-sha256$1000$AA$BB"), db.inserted);
        assertEquals(List.of("m1|9|17|mara|mara-3|true"), db.restores);
    }

    @Test
    void beingToldTwiceRestoresOnce() throws Exception {
        db.accounts.put(4L, "mara");
        listener.lost(lost(9, ROW));
        listener.lost(lost(9, ROW));
        assertEquals(1, db.inserted.size(), db.inserted.toString());
        assertEquals(1, db.restores.size());
        Restored again = listener.restore(9, listener.lostAccount(lost(9, ROW)).orElseThrow());
        assertTrue(again.alreadyDone());
        assertEquals("mara-2", again.newName());
    }

    @Test
    void aTakenIdGetsANewOneAndAFreeNameIsKeptWithoutANotice() throws Exception {
        db.accounts.put(17L, "someone");
        listener.lost(lost(3, ROW));
        assertEquals(List.of("null|mara|m@example.org|pbkdf2-sha256$1000$AA$BB"), db.inserted);
        assertEquals(List.of("m1|3|100|mara|mara|false"), db.restores);
    }

    @Test
    void otherLostWritesAreNotTheSitesToRepair() throws Exception {
        listener.lost(new LostWrite(1, Instant.now(), "update", "public.account", Map.of(), ROW, null, "m2"));
        listener.lost(new LostWrite(2, Instant.now(), "unique", "public.item", Map.of(), ROW, null, "m2"));
        listener.lost(new LostWrite(3, Instant.now(), "unique", "public.account", Map.of(), null, null, "m2"));
        listener.lost(lost(4, "{\"id\":\"17\",\"email\":\"x@y\"}"));
        listener.lost(lost(5, "not json"));
        assertTrue(db.inserted.isEmpty() && db.restores.isEmpty() && db.transactions == 0);
    }

    @Test
    void aDatabaseErrorIsThrownSoTheMirrorTellsAgain() {
        db.failNext = true;
        assertThrows(SQLException.class, () -> listener.lost(lost(9, ROW)));
        assertTrue(db.restores.isEmpty());
    }

    /** The account tables in memory, one "transaction" at a time. */
    private static final class Tables implements AccountStore, AccountTable {
        final Map<Long, String> accounts = new HashMap<>();
        final List<String> inserted = new ArrayList<>();
        final List<String> restores = new ArrayList<>();
        final Map<String, Restored> byConflict = new HashMap<>();
        int transactions;
        boolean failNext;
        long nextId = 100;

        @Override
        public <T> T inTransaction(Function<AccountTable, T> work) throws Exception {
            transactions++;
            if (failNext) {
                failNext = false;
                throw new SQLException("database away", "08006");
            }
            return work.apply(this);
        }

        @Override
        public Optional<Restored> restoredFor(String mirrorId, long conflictId) {
            return Optional.ofNullable(byConflict.get(mirrorId + "|" + conflictId));
        }

        @Override
        public boolean nameTaken(String userName) {
            return accounts.containsValue(userName);
        }

        @Override
        public boolean idTaken(long id) {
            return accounts.containsKey(id);
        }

        @Override
        public long insertAccount(Long id, String userName, String email, String passwordHash) {
            inserted.add(id + "|" + userName + "|" + email + "|" + passwordHash);
            long newId = id == null ? nextId++ : id;
            assertFalse(accounts.containsKey(newId));
            accounts.put(newId, userName);
            return newId;
        }

        @Override
        public void insertRestored(String mirrorId, long conflictId, long accountId, String originalName,
                                   String newName, boolean tell) {
            restores.add(mirrorId + "|" + conflictId + "|" + accountId + "|" + originalName + "|" + newName + "|" + tell);
            byConflict.put(mirrorId + "|" + conflictId, new Restored(accountId, originalName, newName, false));
        }
    }
}
