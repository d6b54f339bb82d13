/**
 * End-to-end tests of the sample site and of a third-party-like site, each mirror a real Tomcat
 * from the distribution with its own PostgreSQL and upload folder, driven over HTTP (and, in
 * {@code BrowserIT}, by a headless Chromium): a visitor's browser ({@link
 * org.activemirroring.testsupport.SiteBrowser}, shared with the sample site's own tests), test
 * images, an item-writing load that fails over like a load balancer, and the end checks (table digests, upload folders, every acknowledged
 * item on every mirror).
 */
package org.activemirroring.tomcatconf.e2e;
