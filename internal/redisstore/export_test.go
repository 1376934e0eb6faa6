package redisstore

import "time"

// QueuedParts returns how many parts wait for c's next shared round trip.
func QueuedParts(c *Client) int {
	c.rt.mu.Lock()
	defer c.rt.mu.Unlock()
	return len(c.rt.queue)
}

// SetPollBudget sets how long c's connections poll for a reply.
func SetPollBudget(c *Client, d time.Duration) { c.poll.budget = d }

// PollHits returns how many of c's polls got their reply within the budget.
func PollHits(c *Client) uint64 { return c.poll.hits.Load() }

// QueuedEvents returns how many events wait in a's queue for its next batch; a is a Client's
// Audit view.
func QueuedEvents(a any) int {
	s := a.(*auditStore)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}
