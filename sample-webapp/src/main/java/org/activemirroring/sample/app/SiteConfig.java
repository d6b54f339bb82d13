package org.activemirroring.sample.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import javax.naming.InitialContext;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.sql.DataSource;

import jakarta.servlet.ServletContext;

/**
 * What the site needs from its deployment, read once at start:
 * <ul>
 *   <li>{@value #DATA_SOURCE}: the site's database, a {@code javax.sql.DataSource} (in production
 *       a HikariCP pool made by {@code com.zaxxer.hikari.HikariJNDIFactory} in context.xml);</li>
 *   <li>{@value #UPLOAD_DIR} (JNDI environment entry, String), else the context init-param
 *       {@value #UPLOAD_DIR_PARAM}: the upload folder, created if missing, must be writable;</li>
 *   <li>{@value #UPLOAD_FOLDER_NAME} (JNDI), else init-param {@value #UPLOAD_FOLDER_NAME_PARAM},
 *       default {@value #DEFAULT_FOLDER_NAME}: the name under which the mirror replicates that
 *       folder ({@code mirror.folders}), for reading an image that has not arrived yet.</li>
 * </ul>
 * Every problem is reported at once and stops the start, with what to set where.
 */
public record SiteConfig(DataSource dataSource, Path uploadDir, String uploadFolderName) {
    public static final String DATA_SOURCE = "java:comp/env/jdbc/site";
    public static final String UPLOAD_DIR = "java:comp/env/site/uploadDir";
    public static final String UPLOAD_DIR_PARAM = "site.uploadDir";
    public static final String UPLOAD_FOLDER_NAME = "java:comp/env/site/uploadFolderName";
    public static final String UPLOAD_FOLDER_NAME_PARAM = "site.uploadFolderName";
    public static final String DEFAULT_FOLDER_NAME = "uploads";

    /** Looks a JNDI name up; returns null when it is not bound. */
    public interface Jndi {
        Object lookup(String name) throws NamingException;
    }

    /** Reads the configuration from the web application's JNDI environment and init-params. */
    public static SiteConfig load(ServletContext context) {
        return resolve(name -> {
            try {
                return new InitialContext().lookup(name);
            } catch (NameNotFoundException e) {
                return null;
            }
        }, context::getInitParameter);
    }

    /** The configuration from {@code jndi} and {@code initParams}; the testable core of {@link #load}. */
    static SiteConfig resolve(Jndi jndi, Function<String, String> initParams) {
        List<String> problems = new ArrayList<>();
        DataSource ds = null;
        try {
            Object found = jndi.lookup(DATA_SOURCE);
            if (found instanceof DataSource d) {
                ds = d;
            } else if (found == null) {
                problems.add("No data source at JNDI name " + DATA_SOURCE + ": define <Resource name=\"jdbc/site\""
                        + " type=\"javax.sql.DataSource\" .../> in the site's context.xml (see tomcat-conf/context.xml)");
            } else {
                problems.add("JNDI name " + DATA_SOURCE + " holds a " + found.getClass().getName()
                        + ", not a javax.sql.DataSource: give the <Resource> type=\"javax.sql.DataSource\"");
            }
        } catch (NamingException e) {
            problems.add("Cannot look up the data source " + DATA_SOURCE + ": " + e
                    + " (is JNDI naming enabled and the <Resource> complete?)");
        }
        String dir = text(jndi, UPLOAD_DIR, problems);
        if (dir == null) {
            dir = initParams.apply(UPLOAD_DIR_PARAM);
        }
        Path uploadDir = null;
        if (dir == null || dir.isBlank()) {
            problems.add("No upload folder: set the JNDI environment entry site/uploadDir (<Environment"
                    + " name=\"site/uploadDir\" type=\"java.lang.String\" value=\"/var/lib/site/uploads\"/> in"
                    + " context.xml) or the context init-param " + UPLOAD_DIR_PARAM);
        } else {
            uploadDir = writableDir(dir.strip(), problems);
        }
        String folderName = text(jndi, UPLOAD_FOLDER_NAME, problems);
        if (folderName == null) {
            folderName = initParams.apply(UPLOAD_FOLDER_NAME_PARAM);
        }
        if (folderName == null || folderName.isBlank()) {
            folderName = DEFAULT_FOLDER_NAME;
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("The sample site cannot start: " + String.join("; ", problems));
        }
        return new SiteConfig(ds, uploadDir, folderName.strip());
    }

    private static String text(Jndi jndi, String name, List<String> problems) {
        try {
            Object v = jndi.lookup(name);
            if (v == null || v instanceof String) {
                return (String) v;
            }
            problems.add("JNDI entry " + name + " holds a " + v.getClass().getName() + ": make it type=\"java.lang.String\"");
        } catch (NamingException e) {
            problems.add("Cannot look up " + name + ": " + e);
        }
        return null;
    }

    private static Path writableDir(String dir, List<String> problems) {
        try {
            Path p = Path.of(dir).toAbsolutePath().normalize();
            Files.createDirectories(p);
            // A real write, not Files.isWritable: that says yes to root on a read-only mount.
            Path probe = Files.createTempFile(p, ".am-tmp-probe-", ".tmp");
            Files.delete(probe);
            return p;
        } catch (InvalidPathException | IOException | SecurityException e) {
            problems.add("The upload folder '" + dir + "' is not a writable directory (" + e
                    + "): create it and give the Tomcat user write access, or point site/uploadDir elsewhere");
            return null;
        }
    }
}
