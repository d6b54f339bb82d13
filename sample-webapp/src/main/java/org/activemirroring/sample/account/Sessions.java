package org.activemirroring.sample.account;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

import jakarta.persistence.EntityManagerFactory;

/**
 * Login sessions kept in the database table {@code user_session}, not in the servlet container:
 * the table is mirrored, so a user whose mirror goes down goes on on any other mirror with the
 * same cookie, and a logout (the row deleted) ends the session on every mirror. Each request
 * reads one row by primary key; "last seen" is written at most every {@link #SEEN_EVERY}, so
 * browsing does not turn every page view into a replicated write.
 */
public final class Sessions {
    /** How long a login lasts. */
    public static final Duration LIFETIME = Duration.ofDays(30);
    /** How stale {@code last_seen} may get before a request refreshes it. */
    static final Duration SEEN_EVERY = Duration.ofMinutes(10);
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{43}");

    private final EntityManagerFactory emf;
    private final SecureRandom random;
    private final Clock clock;

    public Sessions(EntityManagerFactory emf, SecureRandom random, Clock clock) {
        this.emf = emf;
        this.random = random;
        this.clock = clock;
    }

    /** Starts a session for {@code accountId}; returns the token for the cookie (256 random bits). */
    public String create(long accountId) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Instant now = clock.instant();
        emf.runInTransaction(em -> em.persist(new UserSession(hash(token), em.getReference(Account.class, accountId),
                now, now.plus(LIFETIME))));
        return token;
    }

    /** The user whose live session {@code token} names, if any. An expired session is removed. */
    public Optional<CurrentUser> find(String token) {
        if (token == null || !TOKEN.matcher(token).matches()) {
            return Optional.empty();
        }
        String key = hash(token);
        Instant now = clock.instant();
        return emf.callInTransaction(em -> {
            UserSession s = em.createQuery("select s from UserSession s join fetch s.account where s.tokenHash = :k",
                    UserSession.class).setParameter("k", key).getResultStream().findFirst().orElse(null);
            if (s == null) {
                return Optional.empty();
            }
            if (!now.isBefore(s.getExpiresAt())) {
                em.remove(s);
                return Optional.empty();
            }
            if (Duration.between(s.getLastSeen(), now).compareTo(SEEN_EVERY) > 0) {
                s.seen(now);
            }
            Account a = s.getAccount();
            return Optional.of(new CurrentUser(a.getId(), a.getUserName(), token));
        });
    }

    /** Ends the session {@code token} names, on every mirror (its row is deleted). */
    public void end(String token) {
        if (token == null || !TOKEN.matcher(token).matches()) {
            return;
        }
        String key = hash(token);
        emf.runInTransaction(em -> em.createQuery("delete from UserSession s where s.tokenHash = :k")
                .setParameter("k", key).executeUpdate());
    }

    /** The stored form of a token: its SHA-256 in hex, so the table alone lets no one log in. */
    static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("This JDK has no SHA-256", e);
        }
    }
}
