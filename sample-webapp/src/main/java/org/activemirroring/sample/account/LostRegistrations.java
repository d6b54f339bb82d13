package org.activemirroring.sample.account;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.activemirroring.site.LostWrite;
import org.activemirroring.site.LostWriteListener;

/**
 * Keeps the accounts whose registration lost. When two people register one user name on two
 * mirrors at the same moment, the mirror network keeps one account row and tells the site of the
 * other on the mirror where it was written: a {@link LostWrite} of kind {@code unique} on the
 * account table whose {@code lostRow} is the losing row. This listener creates that account again
 * under a free name ({@code name-2}, {@code name-3}, ...) with the same id where it is free (so
 * whatever the account had made points to it again), password hash and e-mail, and records the
 * restore in {@code restored_account}, unique per (mirror, conflict): being told twice restores
 * once. The owner is told at their next login ({@link Accounts#login}).
 *
 * <p>Other lost writes are not the site's to repair and are ignored. A lost row that is not an
 * account (no user name or password hash) is logged and acknowledged, since telling it again would
 * not change it; a database error is thrown, so the mirror tells it again later.
 */
public final class LostRegistrations implements LostWriteListener {
    private static final Logger LOG = System.getLogger(LostRegistrations.class.getName());

    /** The kind of lost write a registration is. */
    public static final String UNIQUE = "unique";

    private final String mirrorId;
    private final String accountTable;
    private final AccountStore store;

    /**
     * @param mirrorId     this mirror's id, which with the conflict id names a lost write network-wide
     * @param accountTable the account table as lost writes name it, {@code schema.table}
     * @param store        the database, one transaction per call
     */
    public LostRegistrations(String mirrorId, String accountTable, AccountStore store) {
        this.mirrorId = mirrorId;
        this.accountTable = accountTable;
        this.store = store;
    }

    @Override
    public void lost(LostWrite write) throws Exception {
        Optional<LostAccount> account = lostAccount(write);
        if (account.isPresent()) {
            Restored r = restore(write.conflictId(), account.get());
            LOG.log(Level.INFO, () -> (r.alreadyDone() ? "Already restored" : "Restored") + " the account '"
                    + r.originalName() + "' that lost its name on this mirror (conflict " + write.conflictId()
                    + ") as '" + r.newName() + "' (id " + r.accountId() + ")");
        }
    }

    /** The account a lost write held, when it is a lost registration this site can restore. */
    Optional<LostAccount> lostAccount(LostWrite write) {
        if (!UNIQUE.equals(write.kind()) || !accountTable.equals(write.table()) || write.lostRow() == null) {
            return Optional.empty();
        }
        try {
            Map<String, String> row = FlatJson.parseObject(write.lostRow());
            String name = row.get("user_name");
            String hash = row.get("password_hash");
            if (name == null || name.isBlank() || hash == null || hash.isBlank()) {
                LOG.log(Level.WARNING, "Lost write " + write.conflictId() + " on " + write.table()
                        + " has no user_name or password_hash; not restored. Columns: " + row.keySet());
                return Optional.empty();
            }
            String id = row.get("id");
            return Optional.of(new LostAccount(id == null ? null : Long.valueOf(id), name,
                    row.getOrDefault("email", ""), hash));
        } catch (IllegalArgumentException e) {
            LOG.log(Level.WARNING, "Lost write " + write.conflictId() + " on " + write.table()
                    + " is not a readable account row (" + e.getMessage() + "); not restored. "
                    + "Restore it by hand from mirror.conflict if needed.");
            return Optional.empty();
        }
    }

    /** Restores {@code account} once per (this mirror, {@code conflictId}). */
    Restored restore(long conflictId, LostAccount account) throws Exception {
        return store.inTransaction(t -> {
            Optional<Restored> done = t.restoredFor(mirrorId, conflictId);
            if (done.isPresent()) {
                return done.get().asAlreadyDone();
            }
            Long id = account.id() != null && !t.idTaken(account.id()) ? account.id() : null;
            String name = t.nameTaken(account.userName())
                    ? UserNames.freeName(account.userName(), t::nameTaken) : account.userName();
            long newId = t.insertAccount(id, name, account.email(), account.passwordHash());
            // Nothing to tell when the name was free after all.
            t.insertRestored(mirrorId, conflictId, newId, account.userName(), name, !name.equals(account.userName()));
            return new Restored(newId, account.userName(), name, false);
        });
    }

    /**
     * The losing account row.
     *
     * @param id the row's id, or null if the row had none
     */
    public record LostAccount(Long id, String userName, String email, String passwordHash) {
    }

    /** What a restore did. */
    public record Restored(long accountId, String originalName, String newName, boolean alreadyDone) {
        Restored asAlreadyDone() {
            return new Restored(accountId, originalName, newName, true);
        }
    }

    /** The database as a restore needs it. */
    public interface AccountStore {
        /**
         * Runs {@code work} in one transaction and commits it; retries it when a concurrent write
         * took a name or the same restore meanwhile.
         */
        <T> T inTransaction(Function<AccountTable, T> work) throws Exception;
    }

    /** One transaction's view of the account tables. */
    public interface AccountTable {
        /** The restore already made for this lost write, if any. */
        Optional<Restored> restoredFor(String mirrorId, long conflictId);

        boolean nameTaken(String userName);

        boolean idTaken(long id);

        /** Inserts an account, with {@code id} or (when null) the next id; returns its id. */
        long insertAccount(Long id, String userName, String email, String passwordHash);

        /** Records the restore; {@code tell} false records it as already told. */
        void insertRestored(String mirrorId, long conflictId, long accountId, String originalName, String newName,
                            boolean tell);
    }
}
