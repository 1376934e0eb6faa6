package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// roleStep is what narrowingFirst makes of a role of the file.
type roleStep struct {
	// narrowed is the broker's role with only the actions the file drops taken away, nil when
	// it drops none, or all (a role needs an action).
	narrowed *narrowStep
	// widens tells that the file gives an action the broker's role lacks; replaced, that it
	// keeps none of the broker's.
	widens, replaced bool
}

// roleChange compares r with the broker's role. A role the server's file declares and r takes
// actions away from stops the apply (fileOwned): they cannot be taken away first. One r only
// widens, or leaves alone, is left to the main pass, which refuses a change of it.
func roleChange(ctx context.Context, lr *planReader, r config.Role) roleStep {
	cur, m, held := served[config.Role](ctx, lr, kindRole, r.ID)
	if !held {
		return roleStep{}
	}
	kept := slices.DeleteFunc(slices.Clone(cur.Actions), func(a string) bool {
		return !slices.Contains(r.Actions, a)
	})
	if m.ManagedBy == catalog.ManagedByConfig {
		if len(kept) < len(cur.Actions) {
			lr.fileOwned("role/" + r.ID)
		}
		return roleStep{}
	}
	st := roleStep{widens: slices.ContainsFunc(r.Actions, func(a string) bool {
		return !slices.Contains(cur.Actions, a)
	})}
	switch {
	case len(kept) == 0:
		st.replaced = true
	case len(kept) < len(cur.Actions):
		cur.ID, cur.Actions = r.ID, kept
		st.narrowed = &narrowStep{body: cur, version: m.Version}
	}
	return st
}

// replacedAlone refuses a file that replaces every action of the roles replaced and also adds
// anything else: a role it widens, or another object the apply makes or changes beyond what it
// takes away first. A role keeps at least one action, so its old actions cannot be taken away
// first, and no order is then safe: the old actions, held until the role is put, reach what the
// file adds (a write attachment, a stack moved under the role's bindings), and the new ones, put
// first, what the file takes away later.
func replacedAlone(ctx context.Context, r *planReader, planned []applyObject, replaced []string) error {
	var adds []string
	for _, o := range planned {
		if slices.Contains(replaced, o.ref) {
			continue
		}
		add, err := addsBeyondNarrowing(ctx, r, o)
		if err != nil {
			return fmt.Errorf("reading %s: %w", o.ref, err)
		}
		if add {
			adds = append(adds, o.ref)
		}
	}
	if len(adds) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the file replaces every action of it and also changes %s, which its old actions "+
		"would reach until it is put; apply the role in a file of its own first",
		strings.Join(replaced, ", "), strings.Join(adds, ", "))
}

// addsBeyondNarrowing reports whether the apply puts o otherwise than the broker holds it once
// narrowed: a role the file widens, or another object the file makes or changes beyond what it
// takes away. A role the file makes adds nothing: no key is bound to it yet.
func addsBeyondNarrowing(ctx context.Context, r *planReader, o applyObject) (bool, error) {
	if _, ok := o.desired.(config.Role); ok {
		return o.stage == stageLast, nil
	}
	if o.narrowed != nil && o.narrowed.remove {
		return true, nil // the file's form holds a scope the broker's does not
	}
	want, held, err := forms(ctx, r, o)
	if err != nil || held == nil {
		return err == nil, err // made by the file
	}
	return !bytes.Equal(held, want), nil
}

// forms returns o as the file gives it and as the broker holds it once narrowed, both in
// canonical form; held is nil for an object the broker does not hold.
func forms(ctx context.Context, r *planReader, o applyObject) (want, held []byte, err error) {
	if want, err = canonical(o.desired); err != nil {
		return nil, nil, err
	}
	if o.narrowed != nil {
		held, err = canonical(o.narrowed.body)
		return want, held, err
	}
	cur, err := o.current(ctx, r.c)
	if cur == nil || err != nil {
		return want, nil, err
	}
	return want, cur.canon, nil
}
