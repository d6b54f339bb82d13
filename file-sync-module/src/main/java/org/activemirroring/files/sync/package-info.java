/**
 * Replicating folders between mirrors: the module's composition root ({@link
 * org.activemirroring.files.sync.FileSync}), what one mirror knows of a folder and every merge
 * decision under one lock ({@link org.activemirroring.files.sync.FolderState}: version vectors,
 * {@link org.activemirroring.files.sync.ConflictRule}, conflict copies), scanning and publishing a
 * folder's changes and writing wanted versions into place ({@link
 * org.activemirroring.files.sync.FolderSync}, {@code Fetching}), copying a folder from a peer when
 * a mirror has none ({@code FolderCopy}), the requests about folders beside the journal ({@code
 * SyncWire}, {@code PeerQueries}), reading a file that may not be here yet ({@code OnDemandRead}),
 * refused input ({@link org.activemirroring.files.sync.Refusals}), options and status,
 * and a mirror of folders without a database ({@link org.activemirroring.files.sync.StandaloneNode},
 * its delivery handler {@link org.activemirroring.files.sync.StandaloneDelivery}).
 */
package org.activemirroring.files.sync;
