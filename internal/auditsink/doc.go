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
// cursor. A cursor only advances for the lease's holder and never moves back. A file sink is
// written by the replica holding its lease, so with several replicas each replica's file holds
// the stretches that replica delivered; a log shipper on every replica delivers them all.
//
// # Pending events
//
// Each worker reports how many events of the chain lie past its sink's cursor: the metric
// broker_audit_sink_pending_events{sink}, labelled with the sink's configured or derived name
// (never a URL or path).
package auditsink
