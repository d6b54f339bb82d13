package org.activemirroring.tomcatconf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.tomcat.CatalinaBase;
import org.activemirroring.testsupport.tomcat.TomcatDistribution;
import org.activemirroring.testsupport.tomcat.TomcatInstance;

/**
 * One mirror as an operator sets it up from {@code tomcat-conf/}: a real Tomcat (its own
 * {@code CATALINA_BASE}), its {@code mirror.properties} filled in from the template, its upload
 * folder (replicated as {@code uploads}, given to the site as {@code site/uploadDir}) and the site
 * database as the JNDI pool {@code jdbc/site}, with the plugin installed either way ({@link Install}).
 *
 * <p>Files under {@code dir}: {@code base/} (CATALINA_BASE; log in {@code base/logs/catalina.out}),
 * {@code mirror.properties}, {@code uploads/}, and the node's data directory where the settings
 * put it. Web applications are added with {@link #addWar} before or after {@link #start()}.
 */
public final class MirrorTomcat implements AutoCloseable {
    /** The replicated folder's name in mirror.properties and the site's {@code site/uploadFolderName}. */
    public static final String UPLOAD_FOLDER = "uploads";

    private final TomcatInstance tomcat;
    private final Path mirrorProperties;
    private final Path uploadDir;
    private final PgServer database;

    private MirrorTomcat(TomcatInstance tomcat, Path mirrorProperties, Path uploadDir, PgServer database) {
        this.tomcat = tomcat;
        this.mirrorProperties = mirrorProperties;
        this.uploadDir = uploadDir;
        this.database = database;
    }

    /**
     * Lays out one mirror; nothing runs until {@link #start()}.
     *
     * @param name     the Tomcat's name in logs ("mirror-1")
     * @param dir      a new directory for everything of this mirror
     * @param database the site database: the JNDI pool's and the mirror's ({@code mirror.db.*} of
     *                 {@code settings} must name it)
     * @param settings this mirror's {@code mirror.properties} values (e.g. from MirrorSettings);
     *                 the upload folder is added as {@code uploads}
     */
    public static MirrorTomcat create(String name, Path dir, PgServer database, Map<String, String> settings,
                                      Install install) {
        try {
            Files.createDirectories(dir);
            Path uploads = Files.createDirectories(dir.resolve(UPLOAD_FOLDER));
            Map<String, String> values = new LinkedHashMap<>(settings);
            values.put("mirror.folders", UPLOAD_FOLDER);
            values.put("mirror.folder." + UPLOAD_FOLDER + ".path", uploads.toAbsolutePath().toString());
            String template = Files.readString(TomcatDistribution.confDir().resolve("mirror.properties"),
                    StandardCharsets.UTF_8);
            Path props = dir.resolve("mirror.properties");
            Files.writeString(props, MirrorPropertiesTemplate.fill(template, values), StandardCharsets.UTF_8);

            CatalinaBase base = CatalinaBase.create(dir.resolve("base"))
                    .addLibJars(TomcatDistribution.libDir())
                    .siteDatabase(database.jdbcUrl(), database.user(), database.password())
                    .uploadFolder(uploads, UPLOAD_FOLDER)
                    .mirrorConfig(props);
            if (install == Install.TOMCAT_LIB) {
                // The bundle's pgjdbc and slf4j-api are in lib/ already, for the pool: one copy of each.
                PluginJars.copyInto(base.dir().resolve("lib"), "postgresql-", "slf4j-api-");
                base.enableGlobalMirrorFilter();
            }
            return new MirrorTomcat(new TomcatInstance(name, base), props, uploads, database);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot lay out mirror " + name + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Deploys a WAR (or web application directory) as {@code /<context>}; before or after the start. */
    public MirrorTomcat addWar(String context, Path war) {
        tomcat.base().addWar(context, war);
        return this;
    }

    /** Starts Tomcat and waits until it answers HTTP (the mirror node starts in the background). */
    public MirrorTomcat start() {
        tomcat.start();
        return this;
    }

    public TomcatInstance tomcat() {
        return tomcat;
    }

    public Path mirrorProperties() {
        return mirrorProperties;
    }

    public Path uploadDir() {
        return uploadDir;
    }

    public PgServer database() {
        return database;
    }

    /** {@code http://127.0.0.1:<port><path>}. */
    public String url(String path) {
        return tomcat.url(path);
    }

    @Override
    public void close() {
        tomcat.close();
    }
}
