package org.activemirroring.mirror;

import static org.activemirroring.mirror.SiteHttp.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.Principal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;
import org.apache.catalina.Context;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.realm.RealmBase;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;
import org.junit.jupiter.api.Test;

/**
 * A site whose Tomcat has its own realm: with {@code mirror.admin.role} its users with that role
 * see the admin pages, others do not, whether the site's web.xml constrains the page or the filter
 * asks the container for the login; health stays open. The mirror's database is not there (its
 * node keeps retrying): access is decided before any node is needed.
 */
class AdminRoleIT {

    @Test
    void theContainersRoleOpensTheAdminPages() throws Exception {
        Path work = PostgresServers.workDir().resolve("role-" + System.nanoTime());
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("mirror.node.id", "role-1");
        settings.put("mirror.node.slot", "1");
        settings.put("mirror.data.dir", work.resolve("data").toString());
        settings.put("mirror.db.url", "jdbc:postgresql://127.0.0.1:" + MirrorSettings.freeTransportPort() + "/none");
        settings.put("mirror.db.user", "mirror");
        settings.put("mirror.bind.host", "127.0.0.1");
        settings.put("mirror.bind.port", Integer.toString(MirrorSettings.freeTransportPort()));
        settings.put("mirror.peers", "127.0.0.1:" + settings.get("mirror.bind.port"));
        settings.put("mirror.admin.role", "mirror-admin");
        Path config = SiteHttp.writeProperties(work.resolve("mirror.properties"), settings);

        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(work.resolve("tomcat").toString());
        tomcat.setPort(0);
        tomcat.getConnector();
        Context ctx = tomcat.addContext("/site", null);
        SiteHttp.declareMirrorFilter(ctx, config);
        Tomcat.addServlet(ctx, "site", new jakarta.servlet.http.HttpServlet() {
        });
        ctx.addServletMappingDecoded("/*", "site");
        ctx.setRealm(new RealmBase() {
            @Override
            protected String getPassword(String username) {
                return Map.of("ops", "ops-pw", "visitor", "visitor-pw").get(username);
            }

            @Override
            protected Principal getPrincipal(String username) {
                return new GenericPrincipal(username, List.of(username.equals("ops") ? "mirror-admin" : "user"));
            }
        });
        LoginConfig login = new LoginConfig();
        login.setAuthMethod("BASIC");
        login.setRealmName("site");
        ctx.setLoginConfig(login);
        ctx.getPipeline().addValve(new BasicAuthenticator());
        SecurityConstraint constraint = new SecurityConstraint();
        constraint.addAuthRole("mirror-admin");
        SecurityCollection pages = new SecurityCollection();
        pages.addPattern("/_mirror/status");
        constraint.addCollection(pages);
        ctx.addConstraint(constraint);
        ctx.addSecurityRole("mirror-admin");
        tomcat.start();
        try {
            String site = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/site";
            // Constrained in web.xml: the container asks and decides.
            assertEquals(401, get(site + "/_mirror/status").statusCode());
            assertEquals(403, get(site + "/_mirror/status", "visitor", "visitor-pw").statusCode());
            HttpResponse<String> status = get(site + "/_mirror/status", "ops", "ops-pw");
            assertEquals(200, status.statusCode(), status.body());
            assertTrue(status.body().contains("\"nodeId\" : \"role-1\""), status.body());
            // Not constrained: the filter asks the container for the login, then checks the role.
            HttpResponse<String> none = get(site + "/_mirror/metrics");
            assertEquals(401, none.statusCode(), none.body());
            assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").contains("site"), none.headers()
                    .toString());
            assertEquals(403, get(site + "/_mirror/metrics", "visitor", "visitor-pw").statusCode());
            HttpResponse<String> metrics = get(site + "/_mirror/metrics", "ops", "ops-pw");
            assertEquals(200, metrics.statusCode(), metrics.body());
            assertTrue(metrics.body().contains("mirror_ready{mirror=\"role-1\"} 0.0"), metrics.body());
            // Health stays open.
            assertEquals(503, get(site + "/_mirror/health").statusCode());
        } finally {
            tomcat.stop();
            tomcat.destroy();
        }
    }
}
