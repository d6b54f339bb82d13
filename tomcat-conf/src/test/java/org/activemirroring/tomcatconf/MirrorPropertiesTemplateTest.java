package org.activemirroring.tomcatconf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.mirror.MirrorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tomcat-conf/mirror.properties is what the option classes of this build generate, and works as a template. */
class MirrorPropertiesTemplateTest {
    private static final Path TEMPLATE = Path.of("mirror.properties");

    @Test
    void templateIsCurrent() throws Exception {
        String generated = MirrorPropertiesTemplate.render();
        Path fresh = Path.of("target", "mirror.properties.generated");
        Files.createDirectories(fresh.getParent());
        Files.writeString(fresh, generated, StandardCharsets.UTF_8);
        assertEquals(generated, Files.readString(TEMPLATE, StandardCharsets.UTF_8),
                "tomcat-conf/mirror.properties is not what the option classes generate (an option was added,"
                        + " changed or documented differently). Regenerate it: cp tomcat-conf/target/mirror.properties.generated"
                        + " tomcat-conf/mirror.properties (this test just wrote that file), and commit it.");
    }

    @Test
    void everyOptionHasALineWithItsDefault() throws Exception {
        String template = Files.readString(TEMPLATE, StandardCharsets.UTF_8);
        for (ConfigOption<?> o : MirrorConfig.ALL_OPTIONS) {
            String value = o.isRequired() || o.defaultValue() == null ? "" : o.defaultValue().toString();
            assertTrue(template.contains("\n" + o.key() + "=" + value + "\n")
                            || template.contains("\n#" + o.key() + "=" + value + "\n"),
                    "mirror.properties has no line '" + o.key() + "=" + value + "'");
        }
        for (String key : MirrorPropertiesTemplate.builtInTuning().keySet()) {
            assertTrue(template.contains("\n#" + key + "="), "mirror.properties lacks the stack tuning key " + key);
        }
    }

    @Test
    void filledTemplateIsAValidConfiguration(@TempDir Path dir) throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("mirror.node.id", "web-1");
        values.put("mirror.node.slot", "1");
        values.put("mirror.data.dir", dir.resolve("data").toString());
        values.put("mirror.db.url", "jdbc:postgresql://127.0.0.1:5432/site");
        values.put("mirror.db.user", "mirror");
        values.put("mirror.db.password", "not-a-real-one");
        values.put("mirror.peers", "127.0.0.1:7800,127.0.0.1:7801");
        values.put("mirror.folders", "uploads");
        values.put("mirror.folder.uploads.path", Files.createDirectories(dir.resolve("up")).toString());
        Path file = dir.resolve("mirror.properties");
        Files.writeString(file, MirrorPropertiesTemplate.fill(Files.readString(TEMPLATE), values));

        MirrorConfig config = MirrorConfig.load(file, Map.of());

        assertEquals("web-1", config.nodeId());
        assertEquals(1, config.folders().folders().size(), "the folder added at the end is read");
        String text = Files.readString(file);
        assertTrue(text.contains("\nmirror.node.id=web-1\n") && !text.contains("\nmirror.node.id=\n"),
                "the required line is filled in place:\n" + text);
    }
}
