package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The configuration as logged at start: every option, secrets masked. */
class EffectiveConfigTest {

    @Test
    void everyOptionShowsWithSecretsMasked() {
        String hash = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS, new SecureRandom())
                .encoded();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mirror.node.id", "web-1");
        m.put("mirror.node.slot", "1");
        m.put("mirror.data.dir", "/var/lib/activemirroring");
        m.put("mirror.db.url", "jdbc:postgresql://db:5432/site?password=InUrl-77&ssl=true");
        m.put("mirror.db.user", "mirror");
        m.put("mirror.db.password", "Db-Secret-42");
        m.put("mirror.admin.password-hash", hash);
        m.put("mirror.peers", "10.0.0.2:7800");
        String text = EffectiveConfig.describe(MirrorConfig.of(m));
        for (String secret : new String[] {"Db-Secret-42", hash, "InUrl-77"}) {
            assertFalse(text.contains(secret), text);
        }
        assertTrue(text.contains("mirror.db.password = ****"), text);
        assertTrue(text.contains("mirror.admin.password-hash = ****"), text);
        assertTrue(text.contains("mirror.db.url = jdbc:postgresql://db:5432/site?password=****&ssl=true"), text);
        assertTrue(text.contains("mirror.node.id = web-1\n"), text);
        assertTrue(text.contains("mirror.admin.role =  (default)"), text);
        for (var option : MirrorConfig.ALL_OPTIONS) {
            assertTrue(text.contains("\n  " + option.key() + " = "), option.key() + " missing in " + text);
        }
    }

    @Test
    void keysNamingSecretsAreSecrets() {
        for (String key : new String[] {"mirror.db.password", "mirror.admin.password-hash", "mirror.tls.key-store",
                "mirror.api.secret", "mirror.x.token"}) {
            assertTrue(EffectiveConfig.isSecret(key), key);
        }
        assertFalse(EffectiveConfig.isSecret("mirror.db.user"));
        assertEquals("(empty)", EffectiveConfig.shown("mirror.db.password", ""));
    }
}
