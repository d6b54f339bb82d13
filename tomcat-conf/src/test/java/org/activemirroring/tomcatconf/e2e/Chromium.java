package org.activemirroring.tomcatconf.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code chromium}, run headless once per page: {@code --dump-dom} for the DOM after the
 * page loaded, {@code --screenshot} for a picture of it. Each run gets a fresh profile directory,
 * the flags it needs as root, and no background traffic; a run that does not end within its
 * deadline is killed with its child processes.
 */
final class Chromium {
    /** Where it looks unless {@code -Dchromium=/path/to/chromium} says otherwise. */
    private static final String COMMAND = "chromium";
    private static final long DEADLINE_SECONDS = 90;

    private final Path executable;
    private final Path profiles;

    private Chromium(Path executable, Path profiles) {
        this.executable = executable;
        this.profiles = profiles;
    }

    /**
     * Finds chromium on the PATH (or at {@code -Dchromium}).
     *
     * @throws AssertionError saying how to install it when it is not there
     */
    static Chromium find(Path profiles) {
        String configured = System.getProperty("chromium");
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!Files.isExecutable(p)) {
                throw new AssertionError("-Dchromium=" + configured + " is not an executable file");
            }
            return new Chromium(p, profiles);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, COMMAND);
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return new Chromium(p, profiles);
            }
        }
        throw new AssertionError("BrowserIT needs Debian's chromium, which is not on the PATH ("
                + System.getenv("PATH") + "): install it with apt-get install -y chromium (or point -Dchromium= at it)");
    }

    /** The page's DOM once it loaded (its images included). */
    String dumpDom(String url) throws IOException, InterruptedException {
        return run(List.of("--dump-dom", url));
    }

    /**
     * The DOM of a page that loads more after its load event (scripts that fetch data): the page's
     * timers and fetches run for {@code virtualMillis} of Chromium's virtual time first.
     */
    String dumpDomAfterScripts(String url, int virtualMillis) throws IOException, InterruptedException {
        return run(List.of("--virtual-time-budget=" + virtualMillis, "--dump-dom", url));
    }

    /** Saves a PNG of the page as a {@code width}x{@code height} window shows it. */
    void screenshot(String url, Path png, int width, int height) throws IOException, InterruptedException {
        screenshot(url, png, width, height, 0);
    }

    /** As {@link #screenshot(String, Path, int, int)}, after {@code virtualMillis} of the page's scripts (0: none). */
    void screenshot(String url, Path png, int width, int height, int virtualMillis)
            throws IOException, InterruptedException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.deleteIfExists(png);
        List<String> args = new ArrayList<>();
        if (virtualMillis > 0) {
            args.add("--virtual-time-budget=" + virtualMillis);
        }
        args.addAll(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
                "--hide-scrollbars", url));
        run(args);
        if (!Files.isRegularFile(png)) {
            throw new AssertionError("chromium wrote no screenshot to " + png.toAbsolutePath());
        }
    }

    private String run(List<String> args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(Files.createDirectories(profiles), "chromium-profile-");
        List<String> command = new ArrayList<>(List.of(executable.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile));
        command.addAll(args);
        Path out = profile.resolveSibling(profile.getFileName() + ".out");
        Path err = profile.resolveSibling(profile.getFileName() + ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("chromium did not finish within " + DEADLINE_SECONDS + " s: " + command
                        + "\n" + Files.readString(err, StandardCharsets.UTF_8));
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("chromium exited with " + p.exitValue() + ": " + command + "\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
