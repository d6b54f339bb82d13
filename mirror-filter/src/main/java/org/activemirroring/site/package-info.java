/**
 * What a web site can ask of the mirror it runs in, and the only part of the plugin a site
 * compiles against: reading a file of a replicated folder that may not have arrived yet
 * ({@link MirrorSite#openFile}) and learning of its own writes that lost under the conflict rule
 * ({@link LostWriteListener}). The filter publishes a {@link MirrorSite} as a servlet context
 * attribute; a site finds it with {@link MirrorSite#of}. Nothing here names a database, JGroups or
 * Debezium type, so the contract stays when those change.
 */
package org.activemirroring.site;
