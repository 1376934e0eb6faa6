package main

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// mayGrant reports whether putting o may grant a stack or a key anything: whether it changes the
// broker's object beyond what was taken away first (addsBeyondNarrowing). An integration with no
// autoattach rule in the file whose put changes nothing but its space grants nothing by it: it
// reaches a stack only through the direct attachments, which the file holds at both ends or
// takes away first, and they give what they gave. Any other change of it (its cloud identity)
// changes what those attachments give. An object whose broker form cannot be read counts as one
// that may.
func mayGrant(ctx context.Context, c *adminClient, o applyObject) bool {
	r := &planReader{c: c, read: map[string]json.RawMessage{}}
	if in, ok := o.desired.(config.Integration); ok && len(in.Autoattach) == 0 {
		moved, err := onlyMoves(ctx, r, o)
		return !moved || err != nil
	}
	add, err := addsBeyondNarrowing(ctx, r, o)
	return add || err != nil
}

// onlyMoves reports whether putting o changes nothing of the broker's object but its space (or
// nothing at all); false for an object the broker does not hold.
func onlyMoves(ctx context.Context, r *planReader, o applyObject) (bool, error) {
	want, held, err := forms(ctx, r, o)
	if err != nil || held == nil {
		return false, err
	}
	var a, b map[string]any
	if err := json.Unmarshal(want, &a); err != nil {
		return false, err
	}
	if err := json.Unmarshal(held, &b); err != nil {
		return false, err
	}
	delete(a, "space")
	delete(b, "space")
	return reflect.DeepEqual(a, b), nil
}

// holds tells which objects wait behind others (waitsBehind), reading the broker's form of each
// object at most once for it.
type holds struct {
	ctx   context.Context
	c     *adminClient
	moves map[string]bool
}

// waitsBehind reports whether o must wait behind the objects of before, which wait to go again
// or failed: one of them moves an object the broker holds (a space to another parent, a stack
// or an integration to another space), refused until an object after it is put or for good,
// and o may grant. Put before that move, o would grant where the moved object still is, which
// neither the broker before nor the file grants.
func (h *holds) waitsBehind(before []applyObject, o applyObject) bool {
	return slices.ContainsFunc(before, h.moving) && mayGrant(h.ctx, h.c, o)
}

// moving reports whether putting p moves an object the broker holds; a move it cannot tell
// counts as one.
func (h *holds) moving(p applyObject) bool {
	if isAttachment(p) {
		return false
	}
	if _, ok := p.desired.(config.Role); ok {
		return false
	}
	if m, seen := h.moves[p.ref]; seen {
		return m
	}
	m := moves(h.ctx, h.c, p)
	if h.moves == nil {
		h.moves = map[string]bool{}
	}
	h.moves[p.ref] = m
	return m
}

// moves reports whether putting p gives an object the broker holds another parent or space.
func moves(ctx context.Context, c *adminClient, p applyObject) bool {
	cur, err := p.current(ctx, c)
	if err != nil {
		return true
	}
	if cur == nil {
		return false // made by the file: it is nowhere yet
	}
	want, err := canonical(p.desired)
	if err != nil {
		return true
	}
	var a, b map[string]any
	if json.Unmarshal(want, &a) != nil || json.Unmarshal(cur.canon, &b) != nil {
		return true
	}
	return !reflect.DeepEqual(a["space"], b["space"]) || !reflect.DeepEqual(a["parent"], b["parent"])
}
