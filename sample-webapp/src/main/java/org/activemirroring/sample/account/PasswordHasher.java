package org.activemirroring.sample.account;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.KeySpec;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Password hashes with the JDK's PBKDF2 (HMAC-SHA256) and a random salt per password, stored as
 * one text {@code pbkdf2-sha256$<iterations>$<salt>$<hash>} (Base64), so the iteration count can
 * grow without breaking old hashes. Thread-safe.
 */
public final class PasswordHasher {
    /** Iterations for new hashes (OWASP's 2023 figure for PBKDF2-HMAC-SHA256). */
    public static final int DEFAULT_ITERATIONS = 600_000;
    private static final String PREFIX = "pbkdf2-sha256";
    private static final int SALT_BYTES = 16;
    private static final int HASH_BITS = 256;

    private final int iterations;
    private final SecureRandom random;

    /**
     * @param iterations PBKDF2 iterations for new hashes, at least 1,000
     * @param random     source of salts
     */
    public PasswordHasher(int iterations, SecureRandom random) {
        if (iterations < 1_000) {
            throw new IllegalArgumentException("Invalid PBKDF2 iteration count " + iterations + ": use at least 1000");
        }
        this.iterations = iterations;
        this.random = random;
    }

    /** A new hash of {@code password} with a fresh salt. */
    public String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] hash = pbkdf2(password, salt, iterations);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /**
     * Whether {@code password} matches {@code stored}, compared in constant time. A stored text that
     * is not a hash of this format never matches.
     */
    public boolean verify(String password, String stored) {
        if (stored == null) {
            return false;
        }
        String[] parts = stored.split("\\$");
        if (parts.length != 4 || !parts[0].equals(PREFIX)) {
            return false;
        }
        try {
            int storedIterations = Integer.parseInt(parts[1]);
            if (storedIterations < 1 || storedIterations > 10_000_000) {
                return false;
            }
            Base64.Decoder b64 = Base64.getDecoder();
            byte[] salt = b64.decode(parts[2]);
            byte[] expected = b64.decode(parts[3]);
            byte[] actual = pbkdf2(password, salt, storedIterations);
            return MessageDigest.isEqual(expected, actual);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        char[] chars = password.toCharArray();
        KeySpec spec = new PBEKeySpec(chars, salt, iterations, HASH_BITS);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("This JDK has no PBKDF2WithHmacSHA256: " + e, e);
        } finally {
            Arrays.fill(chars, '\0');
            ((PBEKeySpec) spec).clearPassword();
        }
    }

    /** For tests and logs: never the hash itself. */
    @Override
    public String toString() {
        return "PasswordHasher[" + PREFIX + ", " + iterations + " iterations]";
    }

}
