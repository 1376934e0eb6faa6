// Package audit is broker's tamper-evident trail: every state change and every token or
// credential handed out is an Event, appended to one hash chain across all spaces and replicas.
// Each event's Prev is the lowercase hex SHA-256 of the event before it in its canonical form
// (RFC 8785 JSON canonicalization of the event exactly as the API returns it, Prev included), so
// changing, removing or reordering any event breaks every link after it. No event holds a token
// or a secret.
//
// The links alone do not stop whoever can write the store from rewriting every event and
// recomputing every link, or from dropping the last events. So a Checkpointer anchors the chain
// outside the store: every so many events or so much time it appends a checkpoint event whose
// detail is a JWS, signed with broker's signing key and verifiable with its JWKS, of the
// chain's length and tail hash. VerifyAnchored checks the checkpoints, and with the State a
// verifier keeps between runs also finds the removal of the events after the last one.
package audit
