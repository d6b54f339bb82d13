/**
 * Replicated folders: a site's upload folders (and later end users' own folders) kept identical
 * on every mirror over the same peer transport as database changes. This package owns cutting
 * files into content-defined blocks addressed by their SHA-256 ({@link org.activemirroring.files.Chunker}),
 * the configuration of the folders, the durable index of what each folder holds, and finding what
 * changed in a folder, and a file change as it travels on the journal
 * ({@link org.activemirroring.files.FileChange}, {@link org.activemirroring.files.FileChangeCodec},
 * which refuses unsafe or inconsistent changes whole). Replicating them is in {@code files.sync},
 * moving content between mirrors in {@code files.transfer}, noticing changes in {@code files.watch}.
 */
package org.activemirroring.files;
