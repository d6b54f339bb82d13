package org.activemirroring.tomcatconf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.activemirroring.mirror.MirrorConfig;
import org.junit.jupiter.api.Test;

/**
 * The README's "Adding it to a site" shows exactly what the real-Tomcat tests of both installs use
 * ({@code GlobalFilterInstallIT}, {@code WarInstallIT}, through {@code CatalinaBase} and
 * {@link MirrorTomcat}): the filter elements are those of {@code global-web-filter.xml}, the
 * setenv lines are lines of {@code setenv.sh}, and the {@code mirror.properties} example fills the
 * template {@code mirror.properties} and loads as a valid configuration.
 */
class ReadmeSnippetsTest {
    private static final Pattern FENCE = Pattern.compile("(?m)^( *)```(\\w+)\\n(.*?)^\\1```$", Pattern.DOTALL);

    @Test
    void filterElementsAreThoseOfTheGlobalFilterFile() throws Exception {
        String file = Files.readString(Path.of("global-web-filter.xml"), StandardCharsets.UTF_8);
        String elements = file.replaceAll("(?s)<!--.*?-->", "").strip();
        assertEquals(elements, block("xml").strip(), "README.md's filter elements under \"Adding it to a site\" differ"
                + " from tomcat-conf/global-web-filter.xml, which GlobalFilterInstallIT pastes into Tomcat's conf/web.xml:"
                + " copy that file's elements (without its comment) into the README's xml block.");
    }

    @Test
    void setenvLinesAreThoseOfSetenvSh() throws Exception {
        List<String> setenv = Files.readAllLines(Path.of("setenv.sh"), StandardCharsets.UTF_8);
        String shown = block("sh");
        assertTrue(shown.contains("-Dmirror.config="), "the README's sh block no longer shows -Dmirror.config");
        for (String line : shown.strip().split("\n")) {
            assertTrue(setenv.contains(line), "README.md's line under \"Adding it to a site\" '" + line + "' is not a line"
                    + " of tomcat-conf/setenv.sh, which the real-Tomcat tests install as bin/setenv.sh: copy the line from"
                    + " setenv.sh into the README's sh block.");
        }
    }

    @Test
    void propertiesExampleFillsTheTemplateAndLoads() throws Exception {
        Map<String, String> example = new LinkedHashMap<>();
        Properties shown = new Properties();
        shown.load(new StringReader(block("properties")));
        shown.stringPropertyNames().forEach(k -> example.put(k, shown.getProperty(k)));
        assertTrue(example.containsKey("mirror.node.id") && example.containsKey("mirror.db.url"), example.toString());

        String template = Files.readString(Path.of("mirror.properties"), StandardCharsets.UTF_8);
        List<String> unknown = new ArrayList<>();
        for (String key : example.keySet()) {
            if (!Pattern.compile("(?m)^#?" + Pattern.quote(key) + "=").matcher(template).find()) {
                unknown.add(key);
            }
        }
        assertTrue(unknown.isEmpty(), "README.md's mirror.properties example under \"Adding it to a site\" sets " + unknown
                + ", which tomcat-conf/mirror.properties (the template MirrorTomcat fills for the real-Tomcat tests) has"
                + " no line for: take the option names from that file.");

        // As MirrorTomcat does for every mirror of the tests: the template filled with the values.
        Path filled = Files.createTempFile("readme-mirror", ".properties");
        try {
            Files.writeString(filled, MirrorPropertiesTemplate.fill(template, example), StandardCharsets.UTF_8);
            Properties loaded = new Properties();
            try (var in = Files.newBufferedReader(filled)) {
                loaded.load(in);
            }
            example.forEach((k, v) -> assertEquals(v, loaded.getProperty(k), k + " after filling the template"));
            // The password hash shown is elided ("..."): a real one comes from AdminPassword.
            Map<String, String> settings = new LinkedHashMap<>();
            loaded.stringPropertyNames().forEach(k -> settings.put(k, loaded.getProperty(k)));
            settings.remove(MirrorConfig.ADMIN_PASSWORD_HASH.key());
            assertNotNull(MirrorConfig.of(settings), "the README's example is a valid configuration");
        } finally {
            Files.deleteIfExists(filled);
        }
    }

    /** The one fenced block of {@code language} in the README's section "Adding it to a site", unindented. */
    private static String block(String language) throws Exception {
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("\n## Adding it to a site\n");
        if (start < 0) {
            fail("README.md has no section \"## Adding it to a site\"");
        }
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        List<String> found = new ArrayList<>();
        Matcher m = FENCE.matcher(section);
        while (m.find()) {
            if (m.group(2).equals(language)) {
                String indent = m.group(1);
                found.add(m.group(3).replaceAll("(?m)^" + indent, ""));
            }
        }
        assertEquals(1, found.size(), "README.md's \"Adding it to a site\" should hold one ```" + language + " block");
        return found.get(0);
    }
}
