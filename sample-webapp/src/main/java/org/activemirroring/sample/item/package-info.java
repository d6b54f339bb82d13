/**
 * The archive's content: items with an uploaded image, their comments, search, and the images in
 * the upload folder (type sniffing, crash-safe writes, paths).
 */
package org.activemirroring.sample.item;
