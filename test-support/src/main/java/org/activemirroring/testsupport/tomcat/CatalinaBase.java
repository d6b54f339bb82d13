package org.activemirroring.testsupport.tomcat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * One {@code CATALINA_BASE} directory: Tomcat's default configuration from the distribution with
 * {@code server.xml}, {@code context.xml} and {@code bin/setenv.sh} from the {@code tomcat-conf/}
 * templates, an empty {@code webapps/}, and the values the templates read in
 * {@code conf/catalina.properties}: HTTP and shutdown ports found free on 127.0.0.1, the address
 * 127.0.0.1, a random shutdown command. It only lays out files; {@link TomcatInstance} runs it.
 */
public final class CatalinaBase {
    /** Tomcat's own files copied from the distribution's conf/ (server.xml and context.xml come from the templates). */
    private static final List<String> HOME_CONF = List.of("catalina.properties", "logging.properties", "web.xml",
            "tomcat-users.xml", "jaspic-providers.xml", "catalina.policy");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final Path home;
    private final Path confDir;
    private final String homeCatalinaProperties;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final int httpPort;
    private final int shutdownPort;
    private final String shutdownCommand;

    private CatalinaBase(Path dir, Path home, Path confDir) throws IOException {
        this.dir = dir;
        this.home = home;
        this.confDir = confDir;
        for (String sub : List.of("bin", "conf", "lib", "logs", "temp", "webapps", "work")) {
            Files.createDirectories(dir.resolve(sub));
        }
        for (String name : HOME_CONF) {
            Path source = home.resolve("conf").resolve(name);
            if (Files.exists(source)) {
                Files.copy(source, dir.resolve("conf").resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.copy(template("server.xml"), dir.resolve("conf/server.xml"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(template("context.xml"), dir.resolve("conf/context.xml"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(template("setenv.sh"), dir.resolve("bin/setenv.sh"), StandardCopyOption.REPLACE_EXISTING);
        this.homeCatalinaProperties = Files.readString(dir.resolve("conf/catalina.properties"), StandardCharsets.UTF_8);
        int[] ports = freePorts(2);
        this.httpPort = ports[0];
        this.shutdownPort = ports[1];
        this.shutdownCommand = "SHUTDOWN-" + HexFormat.of().formatHex(RANDOM.generateSeed(8));
        properties.put("am.address", "127.0.0.1");
        properties.put("am.http.port", Integer.toString(httpPort));
        properties.put("am.shutdown.port", Integer.toString(shutdownPort));
        properties.put("am.shutdown.command", shutdownCommand);
        writeProperties();
    }

    /**
     * Makes {@code dir} (which must not exist or be empty) a CATALINA_BASE for the distribution
     * at {@code home}, with the templates of {@code confDir}.
     */
    public static CatalinaBase create(Path dir, Path home, Path confDir) {
        try {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalArgumentException("CATALINA_BASE " + dir + " is not empty: give each instance a"
                                + " new directory.");
                    }
                }
            }
            return new CatalinaBase(dir.toAbsolutePath(), home, confDir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot lay out CATALINA_BASE " + dir + ": " + e.getMessage(), e);
        }
    }

    /** {@link #create(Path, Path, Path)} with the distribution and templates the build gives. */
    public static CatalinaBase create(Path dir) {
        return create(dir, TomcatDistribution.home(), TomcatDistribution.confDir());
    }

    /** Copies {@code jars} (files, or directories whose {@code *.jar} are taken) into {@code lib/}. */
    public CatalinaBase addLibJars(Path... jars) {
        for (Path jar : jars) {
            copyJars(jar, dir.resolve("lib"));
        }
        return this;
    }

    /** Copies the jars of {@code source} (a jar or a directory of jars) into {@code target}, except names in {@code skip}. */
    static List<Path> copyJars(Path source, Path target, String... skipPrefixes) {
        List<Path> copied = new ArrayList<>();
        try {
            Files.createDirectories(target);
            List<Path> jars = new ArrayList<>();
            if (Files.isDirectory(source)) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(source, "*.jar")) {
                    files.forEach(jars::add);
                }
            } else {
                jars.add(source);
            }
            for (Path jar : jars) {
                String name = jar.getFileName().toString();
                if (Stream.of(skipPrefixes).noneMatch(name::startsWith)) {
                    copied.add(Files.copy(jar, target.resolve(name), StandardCopyOption.REPLACE_EXISTING));
                }
            }
            return copied;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot copy jars from " + source + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Declares MirrorFilter in this Tomcat's global {@code conf/web.xml} (install b), pasting
     * {@code tomcat-conf/global-web-filter.xml} before its closing {@code </web-app>}, as the README tells operators.
     */
    public CatalinaBase enableGlobalMirrorFilter() {
        try {
            Path webXml = dir.resolve("conf/web.xml");
            String xml = Files.readString(webXml, StandardCharsets.UTF_8);
            int end = xml.lastIndexOf("</web-app>");
            if (end < 0) {
                throw new IllegalStateException(webXml + " has no </web-app>: not Tomcat's global web.xml");
            }
            String snippet = Files.readString(template("global-web-filter.xml"), StandardCharsets.UTF_8);
            Files.writeString(webXml, xml.substring(0, end) + snippet + "\n" + xml.substring(end), StandardCharsets.UTF_8);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot add the filter to conf/web.xml: " + e.getMessage(), e);
        }
    }

    /** Sets a value the templates read (e.g. {@code site.db.url}) in {@code conf/catalina.properties}. */
    public CatalinaBase property(String key, String value) {
        properties.put(key, value);
        writeProperties();
        return this;
    }

    /** The JNDI DataSource {@code jdbc/site} of context.xml. */
    public CatalinaBase siteDatabase(String jdbcUrl, String user, String password) {
        property("site.db.url", jdbcUrl);
        property("site.db.user", user);
        return property("site.db.password", password == null ? "" : password);
    }

    /** The JNDI entries {@code site/uploadDir} and {@code site/uploadFolderName} of context.xml. */
    public CatalinaBase uploadFolder(Path folder, String folderName) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create upload folder " + folder + ": " + e.getMessage(), e);
        }
        property("site.upload.dir", folder.toAbsolutePath().toString());
        return property("site.upload.folder.name", folderName);
    }

    /** The mirror's configuration, given to the plugin as {@code -Dmirror.config} by setenv.sh. */
    public CatalinaBase mirrorConfig(Path mirrorProperties) {
        environment.put("MIRROR_CONFIG_FILE", mirrorProperties.toAbsolutePath().toString());
        return this;
    }

    /** The heap setenv.sh gives the JVM ({@code -Xmx}), e.g. "384m". */
    public CatalinaBase heap(String maxHeap) {
        environment.put("MIRROR_HEAP", maxHeap);
        return this;
    }

    /** Further JVM options (setenv.sh's {@code MIRROR_JAVA_OPTS}), added to those given before. */
    public CatalinaBase jvmOptions(String... options) {
        String before = environment.getOrDefault("MIRROR_JAVA_OPTS", "");
        environment.put("MIRROR_JAVA_OPTS", (before + " " + String.join(" ", options)).trim());
        return this;
    }

    /**
     * Puts a web application into {@code webapps/} as {@code <context>.war} ("ROOT" for "/"): a
     * WAR file as it is, a directory zipped into one. The file appears whole (written aside, then
     * moved), so a running Tomcat never deploys half of it.
     */
    public Path addWar(String context, Path warOrDirectory) {
        Path target = dir.resolve("webapps").resolve(context + ".war");
        Path staging = dir.resolve("temp").resolve(context + ".war.part");
        try {
            if (Files.isDirectory(warOrDirectory)) {
                zip(warOrDirectory, staging);
            } else {
                Files.copy(warOrDirectory, staging, StandardCopyOption.REPLACE_EXISTING);
            }
            return Files.move(staging, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot deploy " + warOrDirectory + " as " + target + ": " + e.getMessage(), e);
        }
    }

    /** Removes {@code webapps/<context>.war}; a running Tomcat then undeploys it and deletes its expanded directory. */
    public void removeWar(String context) {
        try {
            Files.deleteIfExists(dir.resolve("webapps").resolve(context + ".war"));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot remove " + context + ".war: " + e.getMessage(), e);
        }
    }

    /** Zips a directory into a WAR (a web application directory: WEB-INF/web.xml, classes, lib). */
    public static void zip(Path directory, Path war) throws IOException {
        try (OutputStream out = Files.newOutputStream(war); ZipOutputStream zip = new ZipOutputStream(out);
             Stream<Path> files = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) files.sorted()::iterator) {
                if (file.equals(directory)) {
                    continue;
                }
                String name = directory.relativize(file).toString().replace('\\', '/');
                if (Files.isDirectory(file)) {
                    zip.putNextEntry(new ZipEntry(name + "/"));
                } else {
                    zip.putNextEntry(new ZipEntry(name));
                    Files.copy(file, zip);
                }
                zip.closeEntry();
            }
        }
    }

    private Path template(String name) {
        Path file = confDir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("Template " + file + " is missing: is " + confDir + " the tomcat-conf directory?");
        }
        return file;
    }

    private void writeProperties() {
        StringBuilder sb = new StringBuilder(homeCatalinaProperties);
        sb.append("\n# Values the tomcat-conf templates read (server.xml, context.xml)\n");
        properties.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        try {
            Files.writeString(dir.resolve("conf/catalina.properties"), sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write conf/catalina.properties in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Distinct ports the OS reports free on 127.0.0.1 (from its ephemeral range). */
    static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    public Path dir() {
        return dir;
    }

    public Path home() {
        return home;
    }

    public int httpPort() {
        return httpPort;
    }

    public int shutdownPort() {
        return shutdownPort;
    }

    String shutdownCommand() {
        return shutdownCommand;
    }

    /** Environment for catalina.sh (setenv.sh's variables). */
    Map<String, String> environment() {
        return Map.copyOf(environment);
    }

    /** The expanded directory Tomcat makes of {@code <context>.war}. */
    public Path expandedDir(String context) {
        return dir.resolve("webapps").resolve(context);
    }
}
