/**
 * Replicated folders: a site's upload folders (and later end users' own folders) kept identical
 * on every mirror over the same peer transport as database changes. This package owns cutting
 * files into content-defined blocks addressed by their SHA-256 ({@link org.activemirroring.files.Chunker}),
 * the configuration of the folders, the durable index of what each folder holds, and finding what
 * changed in a folder, and a file change as it travels on the journal
 * ({@link org.activemirroring.files.FileChange}, {@link org.activemirroring.files.FileChangeCodec},
 * which refuses unsafe or inconsistent changes whole). Publishing and applying file changes,
 * fetching blocks and conflict copies follow on these pieces.
 */
package org.activemirroring.files;
