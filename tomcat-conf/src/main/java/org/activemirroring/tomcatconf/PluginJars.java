package org.activemirroring.tomcatconf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.activemirroring.testsupport.tomcat.TomcatDistribution;

/** The plugin bundle's jars (mirror-filter/target/activemirroring-plugin), copied where an install puts them. */
public final class PluginJars {
    private PluginJars() {
    }

    /**
     * Copies every jar of the bundle into {@code target} ({@code WEB-INF/lib} or
     * {@code $CATALINA_BASE/lib}) except those whose file name starts with one of {@code skipPrefixes}.
     *
     * @return the copied jars
     */
    public static List<Path> copyInto(Path target, String... skipPrefixes) {
        Path bundle = TomcatDistribution.pluginBundle();
        List<Path> copied = new ArrayList<>();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(bundle, "*.jar")) {
            Files.createDirectories(target);
            for (Path jar : jars) {
                String name = jar.getFileName().toString();
                if (Stream.of(skipPrefixes).noneMatch(name::startsWith)) {
                    copied.add(Files.copy(jar, target.resolve(name), StandardCopyOption.REPLACE_EXISTING));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot copy the plugin's jars from " + bundle + " to " + target + ": "
                    + e.getMessage(), e);
        }
        return copied;
    }
}
