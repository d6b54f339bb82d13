package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.junit.jupiter.api.Test;

/** Who gets the admin pages: the password hash, the container's role, both, neither. */
class AdminAccessTest {
    private static final PasswordHash HASH = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS,
            new SecureRandom());
    private static final String RIGHT = "Basic " + Base64.getEncoder().encodeToString(
            "admin:pw".getBytes(StandardCharsets.UTF_8));

    @Test
    void withNeitherHashNorRoleEveryoneGets403SayingHowToTurnThemOn() throws Exception {
        Exchange x = new Exchange(null, Set.of(), RIGHT);
        assertFalse(new AdminAccess(null, null).admit(x.request(), x.response()));
        assertEquals(403, x.status);
        assertTrue(x.body().contains("mirror.admin.role") && x.body().contains("mirror.admin.password-hash"), x.body());
    }

    @Test
    void thePasswordHashNeedsTheRightCredentials() throws Exception {
        AdminAccess access = new AdminAccess(new AdminCredentials("admin", HASH), null);
        Exchange right = new Exchange(null, Set.of(), RIGHT);
        assertTrue(access.admit(right.request(), right.response()));
        Exchange none = new Exchange(null, Set.of(), null);
        assertFalse(access.admit(none.request(), none.response()));
        assertEquals(401, none.status);
        assertEquals(AdminAccess.CHALLENGE, none.headers.get("WWW-Authenticate"));
    }

    @Test
    void theContainersRoleAdmitsItsUsersOnly() throws Exception {
        AdminAccess access = new AdminAccess(null, "mirror-admin");
        Exchange inRole = new Exchange("ops", Set.of("mirror-admin"), null);
        assertTrue(access.admit(inRole.request(), inRole.response()));
        Exchange otherRole = new Exchange("visitor", Set.of("user"), null);
        assertFalse(access.admit(otherRole.request(), otherRole.response()));
        assertEquals(403, otherRole.status);
        Exchange anonymous = new Exchange(null, Set.of(), null); // the container has no login to ask for
        assertFalse(access.admit(anonymous.request(), anonymous.response()));
        assertEquals(403, anonymous.status);
        assertTrue(anonymous.body().contains("security-constraint"), anonymous.body());
    }

    @Test
    void withBothTheRoleOrThePasswordWill() throws Exception {
        AdminAccess access = new AdminAccess(new AdminCredentials("admin", HASH), "mirror-admin");
        Exchange inRole = new Exchange("ops", Set.of("mirror-admin"), null);
        assertTrue(access.admit(inRole.request(), inRole.response()));
        Exchange otherUserWithPassword = new Exchange("visitor", Set.of("user"), RIGHT);
        assertTrue(access.admit(otherUserWithPassword.request(), otherUserWithPassword.response()));
        Exchange otherUser = new Exchange("visitor", Set.of("user"), null);
        assertFalse(access.admit(otherUser.request(), otherUser.response()));
        assertEquals(401, otherUser.status);
    }

    /** A request of {@code user} (null: not logged in) with {@code roles}, and its response. */
    private static final class Exchange {
        final String user;
        final Set<String> roles;
        final String authorization;
        int status = 200;
        final Map<String, String> headers = new HashMap<>();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Exchange(String user, Set<String> roles, String authorization) {
            this.user = user;
            this.roles = roles;
            this.authorization = authorization;
        }

        String body() {
            return out.toString(StandardCharsets.UTF_8);
        }

        HttpServletRequest request() {
            return (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> switch (m.getName()) {
                        case "getUserPrincipal" -> user == null ? null : (Principal) () -> user;
                        case "isUserInRole" -> user != null && roles.contains((String) a[0]);
                        case "getHeader" -> "Authorization".equals(a[0]) ? authorization : null;
                        case "authenticate" -> false; // no login-config: nothing written
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
        }

        HttpServletResponse response() {
            ServletOutputStream stream = new ServletOutputStream() {
                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                }

                @Override
                public void write(int b) {
                    out.write(b);
                }
            };
            return (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> switch (m.getName()) {
                        case "setStatus" -> {
                            status = (Integer) a[0];
                            yield null;
                        }
                        case "getStatus" -> status;
                        case "setHeader" -> headers.put((String) a[0], (String) a[1]) == null ? null : null;
                        case "isCommitted" -> false;
                        case "getOutputStream" -> stream;
                        case "setContentType", "setContentLength" -> null;
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
        }
    }
}
