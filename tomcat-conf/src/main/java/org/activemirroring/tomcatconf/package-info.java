/**
 * What turns the files of {@code tomcat-conf/} into running mirrors: the {@code mirror.properties}
 * template generated from the option classes ({@link org.activemirroring.tomcatconf.MirrorPropertiesTemplate}),
 * one mirror as a real Tomcat with its configuration, database and upload folder, installed either
 * way ({@link org.activemirroring.tomcatconf.MirrorTomcat}, {@link org.activemirroring.tomcatconf.Install}),
 * and the local launcher behind {@code start-mirrors.sh} ({@link org.activemirroring.tomcatconf.LocalMirrors}).
 */
package org.activemirroring.tomcatconf;
