package org.activemirroring.mirror;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Makes the value of {@code mirror.admin.password-hash}:
 * {@code java -cp mirror-filter-VERSION.jar org.activemirroring.mirror.AdminPassword}. It asks for
 * the password on the console (twice, not echoed), or reads one line from standard input when
 * there is no console ({@code echo "$PW" | java ...}), and prints the line to put into
 * {@code mirror.properties}. Needs nothing but this jar: it uses JDK classes only.
 */
public final class AdminPassword {
    /** The option's key, spelled out so this class does not load MirrorConfig and its dependencies. */
    static final String KEY = "mirror.admin.password-hash";

    private AdminPassword() {
    }

    public static void main(String[] args) throws IOException {
        Console console = System.console();
        BufferedReader stdin = console != null ? null
                : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.exit(run(console, stdin, System.out, System.err, new SecureRandom()));
    }

    /**
     * The value of {@code mirror.admin.password-hash} for {@code password} (not empty), with a
     * new random salt: for tools that set up mirrors (the demo, tests). The caller clears the array.
     */
    public static String hashOf(char[] password) {
        return PasswordHash.create(password, PasswordHash.DEFAULT_ITERATIONS, new SecureRandom()).encoded();
    }

    /** @return the exit status: 0 with the line printed on {@code out}, else 1 with the reason on {@code err} */
    static int run(Console console, BufferedReader stdin, PrintStream out, PrintStream err, SecureRandom random)
            throws IOException {
        char[] password;
        if (console != null) {
            password = console.readPassword("Password for the admin pages: ");
            char[] again = password == null ? null : console.readPassword("The same password again: ");
            if (again == null || !Arrays.equals(password, again)) {
                err.println("The two passwords differ; run the command again.");
                return 1;
            }
            Arrays.fill(again, '\0');
        } else {
            String line = stdin.readLine();
            password = line == null ? null : line.toCharArray();
        }
        if (password == null || password.length == 0) {
            err.println("No password given: type one when asked, or pipe it in as one line on standard input.");
            return 1;
        }
        PasswordHash hash = PasswordHash.create(password, PasswordHash.DEFAULT_ITERATIONS, random);
        Arrays.fill(password, '\0');
        out.println(KEY + "=" + hash.encoded());
        err.println("Put that line into mirror.properties (or set MIRROR_ADMIN_PASSWORD_HASH) and restart the web"
                + " application; /_mirror/status and /_mirror/conflicts then ask for the user mirror.admin.user (default"
                + " admin) and this password.");
        return 0;
    }
}
