// Package tlog is the pure core of Parley's record: one append-only Merkle
// log per channel, in the standard formats so that tools not written here can
// check it.
//
//   - Hashing is RFC 6962 (SHA-256, 0x00 leaf and 0x01 node prefixes), and
//     the hashes a store keeps follow the stored-hash layout of
//     golang.org/x/mod/sumdb/tlog ([StoredHashIndex], [AppendHashes]).
//   - Checkpoints are C2SP tlog-checkpoint notes ([Checkpoint], [Sign],
//     [Open]) signed with the node's Ed25519 signed-note key ([GenerateKey]).
//   - Tiles and entry bundles are C2SP tlog-tiles with height 8 ([TilePath],
//     [ParseTilePath], [ReadTile], [EntryBundle]).
//   - Inclusion and consistency proofs and their JSON shapes ([Prove],
//     [ProveConsistency], [InclusionProof], [ConsistencyProof]).
//   - The C2SP tlog-witness decision ([Witness], [ParseAddCheckpoint]) with
//     cosignature/v1 cosignatures ([NewCosigner]).
//   - Verification of a whole stored log ([VerifyLog]) and of a remote log
//     from its checkpoint and tiles alone ([VerifyRemote]).
//
// The package must not do storage, HTTP or logging of its own: a store keeps
// entries, stored hashes and checkpoints in SQL and reads them back through
// [HashReader]; the HTTP layer maps the sentinel errors to statuses; the
// command prints what [VerifyLog] returns. It never sees a private key but
// as the string its caller loaded, and never puts one in an error.
package tlog
