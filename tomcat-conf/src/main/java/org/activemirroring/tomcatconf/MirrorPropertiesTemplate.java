package org.activemirroring.tomcatconf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;
import org.activemirroring.mirror.MirrorConfig;

/**
 * The {@code tomcat-conf/mirror.properties} template: every option a mirror understands
 * ({@link MirrorConfig#ALL_OPTIONS}, folders included) with its doc, default and environment
 * variable, plus the tuning placeholders of the built-in JGroups stack with their defaults.
 * Generated, never edited by hand: {@code MirrorPropertiesTemplateTest} fails when the file is not
 * what this class renders, and says how to regenerate it ({@code main} writes it).
 */
public final class MirrorPropertiesTemplate {
    private static final int WIDTH = 98;
    private static final String STACK = "org/activemirroring/transport/tcp-mirror.xml";
    private static final Pattern TUNING = Pattern.compile("\\$\\{(mirror\\.jgroups\\.[^}:]+):([^}]*)}");

    private static final String HEADER = """
            # ActiveMirroring: mirror.properties, the configuration of one mirror.
            #
            # When to use it: on every mirror, copy it to the path Tomcat's -Dmirror.config names
            # (tomcat-conf/setenv.sh uses $CATALINA_BASE/conf/mirror.properties) and set at least the
            # Essentials: mirror.node.id, mirror.node.slot, mirror.bind.host, mirror.peers, mirror.db.url,
            # mirror.db.user, mirror.db.password, and the replicated folders. Every option is listed with
            # its default; a line left commented out keeps the default. The environment variable named
            # beside an option overrides this file. Keep the file readable only by Tomcat's user: it
            # holds the database password (never commit a real one).
            #
            # This file is generated from the option classes (MirrorPropertiesTemplate); a test keeps it
            # current.
            """;

    private MirrorPropertiesTemplate() {
    }

    /** The template's text for this build's options. */
    public static String render() {
        StringBuilder sb = new StringBuilder(HEADER);
        for (Importance importance : Importance.values()) {
            sb.append("\n# ======== ").append(title(importance)).append(" ========\n");
            for (ConfigOption<?> o : MirrorConfig.ALL_OPTIONS) {
                if (o.importance() == importance) {
                    option(sb, o);
                }
            }
        }
        sb.append("\n# ======== Tuning of the built-in JGroups stack (rarely used) ========\n");
        wrap(sb, "Placeholders of the built-in stack (see tomcat-conf/jgroups-tcp.xml); set one here to change"
                + " it on this mirror. Durations take a unit (s, ms).");
        builtInTuning().forEach((key, def) -> sb.append("#").append(key).append('=').append(def).append('\n'));
        return sb.toString();
    }

    private static void option(StringBuilder sb, ConfigOption<?> o) {
        boolean perFolder = o.key().contains("<name>");
        sb.append('\n');
        wrap(sb, o.doc() + (perFolder ? " (One such line per folder: replace <name> by each name of mirror.folders.)"
                : ""));
        String def = o.defaultValue() == null ? "" : o.defaultValue().toString();
        StringBuilder meta = new StringBuilder(o.isRequired() ? "Required." : "Default: "
                + (o.defaultValue() == null ? "unset" : def.isEmpty() ? "empty" : def) + ".");
        if (!perFolder) {
            meta.append(" Environment: ").append(o.envName()).append('.');
        }
        sb.append("# ").append(meta).append('\n');
        // A required option is left uncommented and empty, so a forgotten one fails the start by name.
        boolean active = o.isRequired() && !perFolder;
        sb.append(active ? "" : "#").append(o.key()).append('=').append(active ? "" : def).append('\n');
    }

    /** The {@code mirror.jgroups.*} placeholders of the built-in stack and their defaults, sorted. */
    static Map<String, String> builtInTuning() {
        try (InputStream in = MirrorConfig.class.getClassLoader().getResourceAsStream(STACK)) {
            if (in == null) {
                throw new IllegalStateException(STACK + " is not on the class path (peer-transport's jar)");
            }
            Matcher m = TUNING.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            Map<String, String> keys = new TreeMap<>();
            while (m.find()) {
                keys.putIfAbsent(m.group(1), m.group(2));
            }
            return keys;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read " + STACK + ": " + e, e);
        }
    }

    private static void wrap(StringBuilder sb, String text) {
        StringBuilder line = new StringBuilder("#");
        for (String word : text.split("\\s+")) {
            if (line.length() + 1 + word.length() > WIDTH && line.length() > 1) {
                sb.append(line).append('\n');
                line = new StringBuilder("#");
            }
            line.append(' ').append(word);
        }
        sb.append(line).append('\n');
    }

    private static String title(Importance importance) {
        return switch (importance) {
            case ESSENTIAL -> "Essentials";
            case FREQUENT -> "Frequently used";
            case RARE -> "Rarely used";
        };
    }

    /**
     * A mirror's own file from the template: each key of {@code values} replaces the template's
     * line for it (commented out or not); keys the template has no line for (a folder's
     * {@code mirror.folder.uploads.path}) are added at the end.
     */
    public static String fill(String template, Map<String, String> values) {
        Map<String, String> left = new LinkedHashMap<>(values);
        List<String> out = new ArrayList<>();
        for (String line : template.split("\n", -1)) {
            String bare = line.startsWith("#") ? line.substring(1) : line;
            int eq = bare.indexOf('=');
            String key = eq > 0 ? bare.substring(0, eq) : null;
            if (key != null && left.containsKey(key) && !key.contains(" ")) {
                out.add(key + "=" + escape(left.remove(key)));
            } else {
                out.add(line);
            }
        }
        StringBuilder sb = new StringBuilder(String.join("\n", out));
        if (!left.isEmpty()) {
            sb.append("\n# ======== Set for this mirror ========\n");
            left.forEach((k, v) -> sb.append(k).append('=').append(escape(v)).append('\n'));
        }
        return sb.toString();
    }

    /** A value as java.util.Properties reads it back unchanged. */
    private static String escape(String value) {
        String v = value.replace("\\", "\\\\").replace("\n", "\\n");
        return v.startsWith(" ") ? "\\" + v : v;
    }

    /** Writes the template to the given path (default {@code tomcat-conf/mirror.properties}). */
    public static void main(String[] args) throws IOException {
        Path target = Path.of(args.length > 0 ? args[0] : "tomcat-conf/mirror.properties");
        Files.writeString(target, render(), StandardCharsets.UTF_8);
        System.out.println("Wrote " + target.toAbsolutePath());
    }
}
