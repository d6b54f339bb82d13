package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class AdminPasswordTest {

    @Test
    void printsAHashLineThatTheConfigAcceptsAndThatMatches() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = AdminPassword.run(null, new BufferedReader(new StringReader("open sesame\n")),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(OutputStream.nullOutputStream()),
                new SecureRandom());
        assertEquals(0, status);
        String line = out.toString(StandardCharsets.UTF_8).trim();
        assertTrue(line.startsWith("mirror.admin.password-hash=pbkdf2-sha256$600000$"), line);
        PasswordHash hash = PasswordHash.parse(line.substring(line.indexOf('=') + 1));
        assertTrue(hash.matches("open sesame".toCharArray()));
    }

    @Test
    void refusesAnEmptyPassword() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = AdminPassword.run(null, new BufferedReader(new StringReader("")), new PrintStream(out),
                new PrintStream(err, true, StandardCharsets.UTF_8), new SecureRandom());
        assertEquals(1, status);
        assertEquals(0, out.size());
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("No password given"), err.toString());
    }

    /** The documented command, with nothing but this module's own classes on the class path. */
    @Test
    void runsWithOnlyItsOwnJarOnTheClassPath() throws Exception {
        Path classes = Path.of(AdminPassword.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-cp", classes.toString(),
                AdminPassword.class.getName())).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("piped password\n".getBytes(StandardCharsets.UTF_8));
        }
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the command ended");
        assertEquals(0, p.exitValue(), printed);
        assertTrue(PasswordHash.parse(printed.substring(printed.indexOf('=') + 1)).matches("piped password".toCharArray()),
                printed);
    }
}
