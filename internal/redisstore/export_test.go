package redisstore

// QueuedParts returns how many parts wait for c's next shared round trip.
func QueuedParts(c *Client) int {
	c.rt.mu.Lock()
	defer c.rt.mu.Unlock()
	return len(c.rt.queue)
}
