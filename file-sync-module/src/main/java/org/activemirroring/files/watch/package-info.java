/**
 * Noticing that a replicated folder changed, soon after it did, as a hint for the folder's scan
 * ({@link org.activemirroring.files.FolderScanner}), which stays the truth: a watcher may miss
 * events (queue overflow, a directory created and filled before it was registered, a platform
 * without native file events), so it only says "scan now" and never what changed.
 * {@link org.activemirroring.files.watch.FolderWatcher} owns one folder's JDK {@code WatchService},
 * its registrations and the debounce of bursts of events into few scans.
 */
package org.activemirroring.files.watch;
