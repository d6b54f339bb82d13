/**
 * The plugin's side of the site API ({@link org.activemirroring.site}): {@link
 * org.activemirroring.mirror.siteapi.NodeSite} is the {@code MirrorSite} a web application finds
 * in its servlet context, backed by the running mirror node; {@code LostWriteDelivery} tells the
 * site's listeners of its writes that lost under the conflict rule, at least once, from the
 * conflict log and its acknowledgements in the site database.
 */
package org.activemirroring.mirror.siteapi;
