// Package audit is broker's tamper-evident trail: every state change and every token or
// credential handed out is an Event, appended to one hash chain across all spaces and replicas.
// Each event's Prev is the lowercase hex SHA-256 of the event before it in its canonical form
// (RFC 8785 JSON canonicalization of the event exactly as the API returns it, Prev included), so
// changing, removing or reordering any event breaks every link after it. No event holds a token
// or a secret.
package audit
