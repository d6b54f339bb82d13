/**
 * The demo behind the README's first command ({@code ./mvnw -B -q -Pdemo -DskipTests verify}):
 * three mirrors of the sample site, each a real Tomcat with its own embedded PostgreSQL and upload
 * folder ({@link org.activemirroring.tomcatconf.demo.Demo}), and what it prints while they run:
 * every change a mirror applies from another ({@link org.activemirroring.tomcatconf.demo.AppliedChanges}),
 * every upload arriving in a mirror's folder ({@link org.activemirroring.tomcatconf.demo.UploadArrivals}),
 * a mirror going away or coming back ({@link org.activemirroring.tomcatconf.demo.MirrorPresence}), and
 * the first item it adds itself as a visitor would ({@link org.activemirroring.tomcatconf.demo.DemoVisitor}).
 */
package org.activemirroring.tomcatconf.demo;
