// Package nodedb is a model of NodeDB's April 2026 sync Lite and Origin,
// written as their own implementation of syncsim's node contract
// (sim.Node) and reading like NodeDB's sync loop: a Lite with a push loop,
// a receive path with a gap detector and a reconnect loop; an Origin with
// a listener, sessions, a WAL and per-session fan-out channels. It replaces
// the nodedb-2026 profile of planted bugs the reference nodes once had:
// this is NodeDB's behaviour itself, weaknesses and all.
//
// # What it was modelled from
//
// The facts in ../../shared/PROTOCOL.md: for the Origin, "Verified in
// NodeDB's April 2026 code" (NodeDB's Origin sources as read on
// 2026-12-01: sync listener, session handshake, delta, dispatch, delivery,
// version), which stands where it differs from "Behaviour seen in NodeDB's
// implementation (2026)"; for the Lite, the latter. No NodeDB code was
// copied. Where the facts are silent the model decides (below); the gap
// detector's details (decision 4) agree with the receive path of NodeDB
// Lite's public sync client (a version later than April 2026).
//
// # The weaknesses it reproduces
//
// Numbered as in docs/nodedb-2026.md, where simrun nodedb shows each:
//
//   - W1 One resync gate per connection: after a gap nothing more is asked
//     until a snapshot or a reconnect; the one request goes out on the next
//     100 ms push tick and is never retried.
//   - W2 A snapshot of any shape clears the gate and wipes a request not
//     yet sent, whichever shape it was for.
//   - W3 The sequence tracker takes a late or duplicate delta's LSN,
//     moving backwards, so the next in-order delta looks like a gap; while
//     the gate is set it does not move at all.
//   - W4 Reconnect: the handshake names the shapes but carries no LSN, the
//     Origin resumes them at its head (the handshake's clock-derived LSN
//     is computed and never read), and the Lite's fresh tracker sees no
//     gap: what was committed meanwhile is never replayed.
//   - W5 ShapeDelta carries no checksum, and no digest is ever compared: a
//     payload altered in transit is applied.
//   - W6 The Origin only logs ResyncRequest and Throttle and sends no
//     VectorClockSync: gaps are never repaired. A full fan-out channel
//     drops the delta being sent, silently.
//   - W7 No throttle lease (moot here: the Origin ignores Throttle, and
//     the Lite never sends it).
//   - W8 The dedup mark moves to the highest mutation id admitted, and the
//     DeltaAck (lsn 0) goes out before the write reaches the WAL: a push
//     the rate limiter dropped without a word, or one overtaken by a later
//     push, is acked as a duplicate when re-sent and never applied.
//   - W9 One WAL LSN is shared by every collection: a shape's deltas jump
//     wherever another collection was written, every jump looks like a gap
//     to the Lite, and a snapshot's LSN is a WAL position, not a position in
//     its collection (the Origin claims sim.Claims.SharedLSN, so a Lite
//     above a collection's last commit with the same contents converges).
//   - W10 DeltaAck's lsn is always 0; the skew warning only past 24 h.
//   - W11 An empty jwt_token authenticates as a ReadWrite identity.
//
// Also: a delta past a gap is applied at once (the merge does not care),
// and the Lite never sends Throttle, never builds ChecksumMismatch or
// CorruptedState, never checks its store, and only logs Origin's
// ResyncRequest.
//
// LiteImpl and OriginImpl ("nodedb-2026") declare what each promises: the
// Lite convergence only (its deltas merge in any order, so not
// in-order-apply; it has no bounded queue, so not queue-capacity), the
// Origin acked-not-lost, applied-at-most-once, no-bad-checksum and
// convergence (not throttle-rate: it ignores Throttle). The end-to-end
// test shows what W9 does to convergence in each pairing: with two
// collections and no faults NodeDB's own pair does not converge (each Lite
// waits for an answer to a spurious gap); the mixed pairs do.
//
// # Modelling decisions
//
// Where the facts are silent the model decides as follows (each is also
// said where it is implemented):
//
//  1. Lite apply: each document is a last-writer-wins register stamped
//     with the LSN of its last write (a delete leaves a tombstone), the
//     model of NodeDB's CRDT merge on a wire whose only order is the LSN;
//     an "applied" event is emitted only when the delta wins its register.
//  2. Lite snapshot: it replaces the shape's documents unconditionally
//     (even one older than deltas already applied). Every document without
//     a write of its own counts as written at the snapshot's LSN, so a
//     document absent from the snapshot counts as deleted there and an
//     older update cannot bring it back.
//  3. Lite probe: the LSN is the highest applied or loaded, ever (a
//     snapshot older than it does not lower it); resyncing is 1 while the
//     gate is set, i.e. a gap was seen on this connection and no snapshot
//     has answered it (the request may have gone out long ago: it is still
//     unanswered).
//  4. Lite gap detector: while the gate is set it does nothing, the
//     tracker included; a shape with no tracker on the connection (after a
//     reset, before its snapshot) starts tracking at its first delta
//     without a gap check. The request names the shape's collection.
//  5. Lite push loop: it runs per connection, from the HandshakeAck on,
//     with a first tick at once (a tokio interval's first tick is
//     immediate); "at most 64 in flight" is read as at most 64 DeltaPush
//     frames per tick, the oldest unacked first.
//  6. Lite handshake: a refused HandshakeAck closes the connection and
//     backs off; only an accepted one is a good connection, which resets
//     the backoff attempt. The token is "nodedb-lite" (not empty: a NodeDB
//     Origin validates it as a JWT), the vector clock is empty.
//  7. Lite subscriptions: a ShapeSubscribe goes out after the handshake for
//     each shape whose snapshot has not loaded yet; once one has (durably),
//     the handshake's subscribed_shapes alone resumes the shape (W5).
//  8. Lite writes are not applied to the synced copy: it holds what Origin
//     sends (the Origin model echoes every commit to the writer's session
//     too). A write to a collection the Lite does not sync is ignored. A
//     rejected write is simply retired.
//  9. Lite reconnecting event: Attempt is 1-based (the first reconnect
//     after a good connection is 1, waiting 1 s); no jitter.
//  10. Lite fault controls: ClockSkewer (device_valid_time_ms) and
//     DurableCorruptor (a stray document, never detected: W6). Not Slower:
//     the Lite has no incoming queue, it applies on arrival.
//  11. Origin, unknown collection and undecodable payload: checked after
//     the rate limiter and after the dedup mark moved (where NodeDB's own
//     write validation runs: after the session handler has admitted the
//     push), and rejected with a reason ("unknown collection: X", or the
//     payload's decode error). A re-sent copy is then acked as a duplicate.
//  12. Origin rejection reasons are NodeDB's strings ("not authenticated",
//     "empty delta", "CRC32C mismatch: expected 0x…, computed 0x…"); the
//     PermissionDenied and IntegrityViolation hints travel in the
//     DeltaReject's compensation field, as the unit variant in the run's
//     wire profile.
//  13. Origin fork detection: a lower epoch is flagged in a successful ack
//     and does not replace the epoch recorded; lite_id "" or epoch 0 is not
//     checked.
//  14. Origin subscriptions: every ShapeSubscribe is answered with a
//     snapshot at the current WAL LSN, a repeated one too (the stream is
//     not doubled); a shape naming no collection served gets an empty
//     snapshot and no stream. A successful handshake subscribes the session
//     to the shapes it names, from the head, with no snapshot (a shape id
//     is matched to the collection whose shape id it is). Deltas go only to
//     authenticated sessions.
//  15. Origin fan-out: every subscribed, authenticated session, the
//     writer's own included. The channel is drained at once by default, so
//     it never fills and the probe's backlog is always 0 (see the gaps).
//     OriginConfig.DrainOnReceive instead drains it only after the session
//     has handled a frame from its Lite, one reading of NodeDB's listener
//     loop that PROTOCOL.md does not state: then a quiet Lite's channel
//     fills and drops the newest deltas (W6).
//  16. Origin idle timeout (300 s) is checked when a frame arrives;
//     handshakes, pushes and pings count as activity. A silent session is
//     never closed. At most 1,024 sessions: a connection beyond is closed
//     at once.
//  17. Origin session ids are "sync-node<peer>-<n>"; server_wire_version
//     is 1; server_clock is each collection's last commit's WAL LSN.
//  18. Origin clock skew: the warning is Origin's time minus the device's,
//     in ms, when more than 24 h either way.
//  19. Signatures are not modelled: any non-empty jwt_token is a valid JWT
//     for the ReadWrite role. Row-level security and the "no identity"
//     rejection are not modelled (an authenticated session always has an
//     identity). The dedup marks, documents, WAL LSN and epochs survive an
//     Origin crash; sessions, channels and rate limiters do not.
//
// # Known gaps
//
//   - Backpressure: the simulated network accepts every frame at once, so
//     a slow Lite cannot back up the Origin's channel as a full TCP window
//     would, and the slow-consumer fault (faults.Slower) has nothing to act
//     on in either model. W6's drop shows only with DrainOnReceive or a quiet
//     Lite. Modelling it needs a kernel change (a bounded connection buffer
//     and a writable signal).
//   - No event reports a fan-out drop (sim.QueueOverflow is a Lite's);
//     Origin.Dropped counts them.
//   - Not modelled: the WebSocket layer (upgrade path, its own pings),
//     JWT validation and identities, row-level security, the dead-letter
//     queue's contents, the control channel (32) and CollectionPurged,
//     TimeseriesPush, presence, token refresh, DefinitionSync, the array
//     CRDT messages; in the Lite, a handshake timeout or keepalive (later
//     versions have them), and any use of fork_detected or server_clock.
//   - The CRDT merge is reduced to last-writer-wins by LSN: concurrent
//     writes end in Origin's commit order, not in an order of the changes'
//     own (Lamport, peer) stamps, and a local write shows in the Lite's
//     copy only once Origin echoes it.
//   - Convergence and W9: a collection not written after a Lite's last
//     snapshot stands at the snapshot's WAL LSN in the Lite and at its last
//     commit's in the Origin, with equal contents. The Origin claims
//     sim.Claims.SharedLSN, so the harness counts that as converged.
package nodedb
