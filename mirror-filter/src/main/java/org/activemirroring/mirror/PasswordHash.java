package org.activemirroring.mirror;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A salted PBKDF2-HMAC-SHA256 hash of the admin password, written the way
 * {@code mirror.admin.password-hash} holds it: {@code pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>}.
 * Immutable. Uses JDK classes only, so that {@link AdminPassword} runs with nothing but this jar on
 * the class path.
 */
final class PasswordHash {
    static final String SCHEME = "pbkdf2-sha256";
    /** OWASP's Password Storage Cheat Sheet (2023) for PBKDF2-HMAC-SHA256. */
    static final int DEFAULT_ITERATIONS = 600_000;
    /** Fewer is too cheap to guess against; more makes every first login take seconds. */
    static final int MIN_ITERATIONS = 100_000;
    static final int MAX_ITERATIONS = 10_000_000;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;
    private static final String ALGORITHM = "PBKDF2WithHmacSHA256";

    private final int iterations;
    private final byte[] salt;
    private final byte[] hash;

    private PasswordHash(int iterations, byte[] salt, byte[] hash) {
        this.iterations = iterations;
        this.salt = salt;
        this.hash = hash;
    }

    /** Hashes {@code password} (not empty) with a new random salt. */
    static PasswordHash create(char[] password, int iterations, SecureRandom random) {
        if (password.length == 0) {
            throw new IllegalArgumentException("the password is empty");
        }
        if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("iterations must be between " + MIN_ITERATIONS + " and " + MAX_ITERATIONS);
        }
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        return new PasswordHash(iterations, salt, derive(password, salt, iterations, HASH_BYTES));
    }

    /**
     * Reads the written form.
     *
     * @throws IllegalArgumentException saying what is wrong; the message never repeats the value,
     *                                  which may be a password pasted in by mistake
     */
    static PasswordHash parse(String encoded) {
        String[] parts = encoded.trim().split("\\$", -1);
        if (parts.length != 4 || !parts[0].equals(SCHEME)) {
            throw new IllegalArgumentException("it is not of the form " + SCHEME + "$iterations$salt$hash");
        }
        int iterations;
        try {
            iterations = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("its iteration count is not a whole number");
        }
        if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("its iteration count must be between " + MIN_ITERATIONS + " and "
                    + MAX_ITERATIONS);
        }
        byte[] salt = base64(parts[2], "salt");
        byte[] hash = base64(parts[3], "hash");
        if (salt.length < SALT_BYTES) {
            throw new IllegalArgumentException("its salt is shorter than " + SALT_BYTES + " bytes");
        }
        if (hash.length != HASH_BYTES) {
            throw new IllegalArgumentException("its hash is not " + HASH_BYTES + " bytes long");
        }
        return new PasswordHash(iterations, salt, hash);
    }

    private static byte[] base64(String part, String what) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(part);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("its " + what + " is not Base64");
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("its " + what + " is empty");
        }
        return bytes;
    }

    /** True if {@code password} hashes to this hash; compares in constant time. An empty password never matches. */
    boolean matches(char[] password) {
        return password.length > 0 && MessageDigest.isEqual(hash, derive(password, salt, iterations, hash.length));
    }

    /** The form {@code mirror.admin.password-hash} holds. */
    String encoded() {
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return SCHEME + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    int iterations() {
        return iterations;
    }

    private static byte[] derive(char[] password, byte[] salt, int iterations, int bytes) {
        PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
        try {
            return SecretKeyFactory.getInstance(ALGORITHM).generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            // Every Java SE 8+ runtime has PBKDF2WithHmacSHA256; without it the admin pages cannot work.
            throw new IllegalStateException("This Java runtime has no " + ALGORITHM + "; run Tomcat on a standard JDK", e);
        } finally {
            spec.clearPassword();
        }
    }

    /** Never shows the salt or hash (a hash can be attacked offline). */
    @Override
    public String toString() {
        return "PasswordHash[" + SCHEME + ", " + iterations + " iterations]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PasswordHash p && iterations == p.iterations && Arrays.equals(salt, p.salt)
                && Arrays.equals(hash, p.hash);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hash);
    }
}
