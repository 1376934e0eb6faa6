// Package auditsink forwards the audit chain to where operators keep it (a SIEM's webhook, a
// file a log shipper tails): every event, in chain order, at least once, without ever slowing
// down what the events record.
//
// # Delivery
//
// A Forwarder runs one worker per sink. A worker reads the chain from the store by position,
// starting at the sink's cursor (the position of the first event it has not delivered), at most
// MaxBatch events at a time; delivers them; and only then advances the cursor, which lives in
// the store beside the chain. So the events waiting for a sink stay in the store, never in a
// queue in memory: a worker holds at most one batch, and a sink that is down or slow only makes
// its cursor lag. Appends merely wake the workers (a non-blocking signal), so issuing a token
// or a credential never waits for a sink. A failed delivery is retried after an exponential,
// jittered backoff capped at MaxBackoff, starting again from the cursor; a receiver can get an
// event twice (after a failure that came after it was received, or across a restart or a
// change of replica) and deduplicates by id.
//
// # Replicas
//
// Of several replicas sharing a store, one at a time delivers to a given sink: the holder of
// the sink's lease in the store, renewed at every step and released on shutdown. When the
// holder dies its lease expires after LeaseTTL and another replica takes over from the saved
// cursor. A cursor only moves for the lease's holder, and moves back only when the chain went
// back (below). A file sink is
// written by the replica holding its lease, so with several replicas each replica's file holds
// the stretches that replica delivered; a log shipper on every replica delivers them all.
//
// # A chain that went back
//
// A store may lose the end of the chain after a sink received it (Redis failing over to a
// replica that lacked the last writes, or wiped) and append new events at those positions. So
// a cursor keeps marks: the hash of the last event the sink received, and of older ones at
// roughly doubling distances. Before delivering, a worker checks that the chain still holds
// that last event before the cursor (the Prev of the next event, or the chain's tail); when it
// does not, or the chain is shorter than the cursor, it moves the cursor back to just past the
// newest marked event the chain still holds unchanged (the chain's start if none is), warns and
// counts it: events are delivered again rather than skipped. A cursor saved without marks (by
// an older broker) is judged by the chain's length alone until its first delivery.
//
// # Pending events
//
// Each worker reports how many events of the chain lie past its sink's cursor: the metric
// broker_audit_sink_pending_events{sink}, labelled with the sink's configured or derived name
// (never a URL or path); broker_audit_sink_rewinds_total{sink} counts the cursor's moves back.
package auditsink
