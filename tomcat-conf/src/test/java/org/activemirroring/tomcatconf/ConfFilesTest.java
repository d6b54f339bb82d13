package org.activemirroring.tomcatconf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import javax.xml.parsers.DocumentBuilderFactory;

import org.activemirroring.mirror.MirrorConfig;
import org.junit.jupiter.api.Test;

/** The files of tomcat-conf/ are well-formed, say when to use them, and the stack copy is the built-in stack. */
class ConfFilesTest {
    private static final List<String> FILES = List.of("server.xml", "context.xml", "setenv.sh", "mirror.properties",
            "jgroups-tcp.xml", "global-web-filter.xml", "start-mirrors.sh");

    @Test
    void everyFileOpensWithWhenToUseIt() throws Exception {
        for (String name : FILES) {
            String text = Files.readString(Path.of(name), StandardCharsets.UTF_8);
            String head = text.substring(0, Math.min(text.length(), 1500));
            assertTrue(head.contains("When to use it"), name + " does not open with a comment saying when to use it");
        }
    }

    @Test
    void xmlFilesAreWellFormed() throws Exception {
        for (String name : List.of("server.xml", "context.xml", "jgroups-tcp.xml")) {
            assertNotNull(DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of(name).toFile()), name);
        }
        // The snippet is two elements to paste into web.xml: well-formed once wrapped.
        String snippet = Files.readString(Path.of("global-web-filter.xml"));
        assertNotNull(DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new java.io.ByteArrayInputStream(
                ("<web-app>" + snippet + "</web-app>").getBytes(StandardCharsets.UTF_8))));
        assertTrue(snippet.contains("<filter-class>" + org.activemirroring.mirror.MirrorFilter.class.getName()
                + "</filter-class>"), "the snippet names the filter class");
    }

    @Test
    void serverXmlHasNoAjpAndListensOnLoopbackByDefault() throws Exception {
        String xml = withoutComments(Files.readString(Path.of("server.xml")));
        assertFalse(xml.contains("AJP"), "no AJP connector");
        assertEquals(1, Pattern.compile("<Connector\\b").matcher(xml).results().count(), "one connector");
        assertTrue(xml.contains("address=\"${am.address:-127.0.0.1}\""), "the connector listens on 127.0.0.1 by default");
        assertTrue(xml.contains("AccessLogValve"), "an access log");
    }

    @Test
    void noPasswordsInTheTemplates() throws Exception {
        for (String name : FILES) {
            String text = Files.readString(Path.of(name));
            assertFalse(Pattern.compile("(?im)^[^#\\n]*password\\s*=\\s*\\S").matcher(text).find()
                            && !name.endsWith(".xml"),
                    name + " sets a password");
        }
        assertTrue(Files.readString(Path.of("context.xml")).contains("password=\"${site.db.password}\""),
                "context.xml takes the password from catalina.properties");
    }

    @Test
    void stackFileIsTheBuiltInStack() throws Exception {
        String builtIn;
        try (InputStream in = MirrorConfig.class.getClassLoader()
                .getResourceAsStream("org/activemirroring/transport/tcp-mirror.xml")) {
            assertNotNull(in, "the built-in stack is on the class path");
            builtIn = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String copy = Files.readString(Path.of("jgroups-tcp.xml"), StandardCharsets.UTF_8);
        assertEquals(fromConfig(builtIn), fromConfig(copy), "tomcat-conf/jgroups-tcp.xml differs from the built-in stack"
                + " (peer-transport/src/main/resources/org/activemirroring/transport/tcp-mirror.xml): copy the built-in"
                + " stack's <config> element into it again, below its own header comment.");
    }

    private static String fromConfig(String xml) {
        int start = xml.indexOf("<config");
        assertTrue(start >= 0, "no <config> element");
        return xml.substring(start).strip();
    }

    private static String withoutComments(String xml) {
        return xml.replaceAll("(?s)<!--.*?-->", "");
    }
}
