package main

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// mayGrant reports whether putting o may grant a stack or a key anything: whether it changes the
// broker's object beyond what was taken away first (addsBeyondNarrowing). An integration with no
// autoattach rule in the file grants nothing by its put (a new space, a new cloud identity): it
// reaches a stack only through the direct attachments, which the file holds at both ends or
// takes away first. An object whose broker form cannot be read counts as one that may.
func mayGrant(ctx context.Context, c *adminClient, o applyObject) bool {
	if in, ok := o.desired.(config.Integration); ok && len(in.Autoattach) == 0 {
		return false
	}
	add, err := addsBeyondNarrowing(ctx, &planReader{c: c, read: map[string]json.RawMessage{}}, o)
	return add || err != nil
}

// waitsBehind reports whether o must wait while the objects of pending wait to go again: one of
// them is not an attachment (a move refused until an object after it is put), and o may grant.
// Put before that move, o would grant where the moved object still is, which neither the broker
// before nor the file grants.
func waitsBehind(ctx context.Context, c *adminClient, pending []applyObject, o applyObject) bool {
	return slices.ContainsFunc(pending, func(p applyObject) bool { return !isAttachment(p) }) && mayGrant(ctx, c, o)
}
