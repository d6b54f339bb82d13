package org.activemirroring.sample.account;

import java.time.Clock;
import java.util.List;
import java.util.Optional;

import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.PersistenceException;

import org.activemirroring.sample.FieldErrors;

/**
 * Registration and login. A login also accepts the name an account had before it was restored
 * under a new one ({@link LostRegistrations}), with that account's password, so its owner, who
 * does not know the new name yet, gets in and is told it; the first login after a restore returns
 * the notice once.
 */
public final class Accounts {
    /** Shortest password. */
    public static final int MIN_PASSWORD = 8;
    /** Longest password (PBKDF2 hashes whatever it is given; this bounds the work). */
    public static final int MAX_PASSWORD = 200;
    /** Longest e-mail address. */
    public static final int MAX_EMAIL = 200;

    private final EntityManagerFactory emf;
    private final PasswordHasher hasher;
    private final Clock clock;
    /** A hash that matches nothing, checked when a name is unknown so that both cases take as long. */
    private final String decoy;

    public Accounts(EntityManagerFactory emf, PasswordHasher hasher, Clock clock) {
        this.emf = emf;
        this.hasher = hasher;
        this.clock = clock;
        this.decoy = hasher.hash("decoy-password-never-used");
    }

    /** What registering gave: the new account's id, or what is wrong with the form. */
    public record Registration(Long accountId, String userName, FieldErrors errors) {
    }

    /** What a successful login gave: the account, and a notice for its owner when there is one. */
    public record Login(long accountId, String userName, Optional<String> notice) {
    }

    /** Checks the form and creates the account. */
    public Registration register(String rawName, String rawEmail, String password) {
        String name = UserNames.normalize(rawName);
        String email = rawEmail == null ? "" : rawEmail.strip();
        FieldErrors errors = new FieldErrors();
        UserNames.problem(name).ifPresent(p -> errors.add("userName", p));
        errors.text("email", "E-mail", email, true, MAX_EMAIL);
        if (!email.isEmpty() && !email.matches("[^@\\s]+@[^@\\s]+")) {
            errors.add("email", "'" + email + "' is not an e-mail address (name@example.org).");
        }
        if (password == null || password.length() < MIN_PASSWORD) {
            errors.add("password", "A password has at least " + MIN_PASSWORD + " characters.");
        } else if (password.length() > MAX_PASSWORD) {
            errors.add("password", "A password has at most " + MAX_PASSWORD + " characters.");
        }
        if (!errors.isEmpty()) {
            return new Registration(null, name, errors);
        }
        if (nameTaken(name)) {
            return new Registration(null, name, errors.add("userName", "The user name '" + name + "' is taken; choose another."));
        }
        String hash = hasher.hash(password);
        try {
            long id = emf.callInTransaction(em -> {
                Account a = new Account(name, email, hash, clock.instant());
                em.persist(a);
                em.flush();
                return a.getId();
            });
            return new Registration(id, name, errors);
        } catch (PersistenceException e) {
            if (JpaAccountStore.isUniqueViolation(e)) {
                return new Registration(null, name, errors.add("userName", "The user name '" + name
                        + "' was taken a moment ago; choose another."));
            }
            throw e;
        }
    }

    private boolean nameTaken(String name) {
        return emf.callInTransaction(em -> em.createQuery("select count(a) from Account a where a.userName = :n",
                Long.class).setParameter("n", name).getSingleResult() > 0);
    }

    /**
     * The account {@code rawName} and {@code password} open: the account of that name, else an
     * account restored from that name. Empty when neither matches.
     */
    public Optional<Login> login(String rawName, String password) {
        String name = UserNames.normalize(rawName);
        if (name.isEmpty() || password == null || password.isEmpty() || password.length() > MAX_PASSWORD) {
            return Optional.empty();
        }
        return emf.callInTransaction(em -> {
            Account byName = em.createQuery("select a from Account a where a.userName = :n", Account.class)
                    .setParameter("n", name).getResultStream().findFirst().orElse(null);
            if (byName != null && hasher.verify(password, byName.getPasswordHash())) {
                return Optional.of(loggedIn(em, byName));
            }
            List<RestoredAccount> restored = em.createQuery(
                    "select r from RestoredAccount r where r.originalName = :n order by r.id", RestoredAccount.class)
                    .setParameter("n", name).getResultList();
            boolean checked = byName != null;
            for (RestoredAccount r : restored) {
                Account a = em.find(Account.class, r.getAccountId());
                if (a != null) {
                    checked = true;
                    if (hasher.verify(password, a.getPasswordHash())) {
                        return Optional.of(loggedIn(em, a));
                    }
                }
            }
            if (!checked) {
                hasher.verify(password, decoy);
            }
            return Optional.empty();
        });
    }

    private Login loggedIn(EntityManager em, Account a) {
        List<RestoredAccount> pending = em.createQuery("select r from RestoredAccount r where r.accountId = :a"
                + " and r.noticeShownAt is null order by r.id", RestoredAccount.class)
                .setParameter("a", a.getId()).getResultList();
        StringBuilder notice = new StringBuilder();
        for (RestoredAccount r : pending) {
            r.noticeShown(clock.instant());
            if (notice.length() > 0) {
                notice.append(' ');
            }
            notice.append("Your user name ").append(r.getOriginalName())
                    .append(" was taken at the same moment on another mirror; your account is now ")
                    .append(r.getNewName()).append('.');
        }
        return new Login(a.getId(), a.getUserName(), notice.length() == 0 ? Optional.empty() : Optional.of(notice.toString()));
    }
}
