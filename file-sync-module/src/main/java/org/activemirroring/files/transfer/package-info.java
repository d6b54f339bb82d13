/**
 * Moving file content between mirrors: finding blocks held locally, serving them to peers, and
 * assembling a wanted file from local and fetched blocks, verified and crash-safe.
 *
 * <p>This package owns:
 * <ul>
 *   <li>where a block's bytes may be read on this mirror ({@link org.activemirroring.files.transfer.LocalBlocks},
 *       kept from the folder indexes by {@link org.activemirroring.files.transfer.BlockMap});</li>
 *   <li>the {@value org.activemirroring.files.transfer.BlockWire#KIND} request and its binary format
 *       ({@link org.activemirroring.files.transfer.BlockWire}), and answering it
 *       ({@link org.activemirroring.files.transfer.BlockServer});</li>
 *   <li>the {@value org.activemirroring.files.transfer.DeltaWire#KIND} request
 *       ({@link org.activemirroring.files.transfer.DeltaWire}, answered by
 *       {@link org.activemirroring.files.transfer.DeltaServer}): an edited file's changed blocks built
 *       out of the version they replace, rsync's algorithm over the edited regions
 *       ({@link org.activemirroring.files.transfer.RollingDelta}), so only the bytes that version
 *       lacks travel;</li>
 *   <li>building a file from blocks found locally, built by delta or fetched from peers into a
 *       temp file next to its target, then an atomic rename
 *       ({@link org.activemirroring.files.transfer.FileAssembler}).</li>
 * </ul>
 *
 * <p>Every block's SHA-256 and length are checked wherever its bytes come from (an index may be
 * stale, a peer may be wrong) before it is written, and the whole file's SHA-256 before it
 * replaces anything; a mirror serving peers skips the check for a file that still looks as indexed
 * ({@link org.activemirroring.files.transfer.FileStamp}), since the peer checks. A temp
 * file is named after the wanted content, so a transfer cut short by a crash or a departing peer
 * resumes with the blocks it already has. Deciding which files to fetch, and when, belongs to the
 * callers; so does adapting the peer transport to {@link org.activemirroring.files.transfer.PeerRequests}.
 */
package org.activemirroring.files.transfer;
