package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/textcut"
)

// changeRecord is the audit event of a change asked through the API, recorded before the
// change is committed: no change is in force without its event. When the trail cannot be
// written, the change is refused (503) and not applied. A change recorded and then not
// committed is followed by an event of the same action with outcome "error" saying so.
type changeRecord struct {
	admin *Admin
	// event builds the change's event from the catalog's result of it.
	event func(res catalog.Result) Event
}

// Before records the change's event; an error refuses the change.
func (c changeRecord) Before(ctx context.Context, res catalog.Result) error {
	e := c.event(res)
	e.Index = res.Catalog
	if err := c.admin.cfg.Events.Record(ctx, e); err != nil {
		// The change is not applied: an event that may still land is followed by a correction.
		return notRecorded(ctx, c.admin.cfg.Events, c.admin.cfg.Logger, e, err)
	}
	return nil
}

// NotCommitted records that the change Before recorded was not committed: another change
// came first (and the change is validated and recorded again), or the store failed before it
// answered (the catalog then shows whether the commit landed).
func (c changeRecord) NotCommitted(ctx context.Context, res catalog.Result, err error) {
	e := c.event(res)
	e.Index = res.Catalog
	e.Outcome = "error"
	if errors.Is(err, catalog.ErrStale) {
		e.Detail = "not applied, another change was committed first: " + e.Detail
	} else {
		e.Detail = "not confirmed, the catalog store failed before it answered: " + e.Detail
	}
	if rerr := c.admin.cfg.Events.Record(ctx, e); rerr != nil {
		c.admin.cfg.Logger.ErrorContext(ctx, "audit: could not record that an administration change was not committed", "action", e.Action, "err", rerr)
	}
}

// objectChange is a change to one object, applied, as its audit event describes it.
type objectChange struct {
	// ref names the object changed.
	ref catalog.Ref
	// action names the change in the trail ("stack.put", "api_key.delete").
	action string
	// place is where the event is filed (see catalog.ChangePlace).
	place catalog.EventPlace
	// res is the catalog's result of the change.
	res catalog.Result
	// after is the object as the change left it; nil for a deletion.
	after any
}

// changeEvent describes ch, applied by p, for the audit trail: the object, and whether it was
// created (with its fields), deleted (with the fields it had) or which fields changed (from what
// to what), so the trail tells who granted what; never a secret (no object of the API holds
// one). An integration's event (and an attachment's) names the integration in its own field too.
func changeEvent(p access.Principal, ch objectChange) Event {
	var detail string
	shown := valuesShown(ch.place, ch.res.Before, ch.after)
	switch {
	case ch.after == nil:
		detail = "deleted"
		if was := objectValue(ch.res.Before); was != "" && shown {
			detail += ", was " + was
		}
		if len(ch.res.Deleted) > 1 {
			names := make([]string, 0, len(ch.res.Deleted)-1)
			for _, r := range ch.res.Deleted[1:] {
				names = append(names, r.String())
			}
			detail += "; with it " + strings.Join(names, ", ")
		}
	case ch.res.Created && shown:
		detail = fmt.Sprintf("created at version %d: %s", ch.res.Version, objectValue(ch.after))
	case ch.res.Created:
		detail = fmt.Sprintf("created at version %d", ch.res.Version)
	default:
		detail = fmt.Sprintf("replaced with version %d; changed: %s", ch.res.Version, strings.Join(changedFields(ch.res.Before, ch.after, shown), ", "))
	}
	if ends := runsEnded(ch); ends != "" {
		detail += "; " + ends
	}
	return Event{Actor: "api_key:" + p.KeyID, Action: ch.action, Run: runs.Run{Space: ch.place.Space, Stack: ch.place.Stack},
		Integration: ch.place.Integration, Also: ch.place.Also, Detail: ch.ref.String() + " " + detail}
}

// runsEnded says which unfinished runs ch ends, empty for none: a stack's when it is deleted or
// moved, the stacks' in and below a space moved to another parent, and the runs an API key
// started when it is deleted. Their run tokens get 401 from then on; no run has an event of its
// own for it.
func runsEnded(ch objectChange) string {
	switch before := ch.res.Before.(type) {
	case config.Stack:
		if after, ok := ch.after.(config.Stack); !ok || after.Space != before.Space {
			return "the stack's unfinished runs end"
		}
	case config.Space:
		if after, ok := ch.after.(config.Space); ok && after.Parent != before.Parent {
			return "the unfinished runs of the stacks in and below it end"
		}
	case config.APIKey:
		if ch.after == nil {
			return "the unfinished runs it started end"
		}
	}
	return ""
}

// valuesShown reports whether the detail of a change of before into after (nil for a creation,
// a deletion), filed at place, may quote the object's values: only when every space whose
// auditors list the event may read them. That is so when it is filed under one space, or when it
// deletes a space, filed also under the parent that holds it. A move (filed where the object went
// and where it was) and an API key bound on several spaces name only fields and counts: the
// auditors of one space would read the other's ids and values.
func valuesShown(place catalog.EventPlace, before, after any) bool {
	if len(place.Also) == 0 {
		return true
	}
	sp, ok := before.(config.Space)
	return after == nil && ok && len(place.Also) == 1 && place.Also[0] == sp.Parent
}

// maxValueBytes bounds each value a change's detail quotes, and maxObjectBytes a whole object:
// a role of many actions or a stack of many labels does not make an event of any size.
const (
	maxValueBytes  = 256
	maxObjectBytes = 1024
)

// auditable is obj as a change's detail may show it: an API key without the hash of its secret.
func auditable(obj any) any {
	if k, ok := obj.(config.APIKey); ok {
		k.SecretSHA256 = ""
		return k
	}
	return obj
}

// objectValue is obj's fields (see auditable) as the API's JSON, cut at maxObjectBytes; empty
// for nil.
func objectValue(obj any) string {
	if obj == nil {
		return ""
	}
	body, err := config.EncodeJSON(auditable(obj))
	if err != nil {
		return ""
	}
	return cut(string(body), maxObjectBytes)
}

// cut returns s, or its first n bytes (whole runes) followed by "…" when longer.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return textcut.Prefix(s, n) + "…"
}

// changedFields names the top-level fields (API names) whose values differ, each, when values
// are shown, with its value before and after as JSON ("write false → true"; "none" for a field
// one side lacks).
func changedFields(before, after any, values bool) []string {
	fb, fa := fieldsOf(auditable(before)), fieldsOf(auditable(after))
	var names []string
	for k, v := range fa {
		if was, ok := fb[k]; !ok || was != v {
			names = append(names, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return []string{"nothing"}
	}
	if !values {
		return names
	}
	out := make([]string, len(names))
	for i, k := range names {
		was, now := "none", "none"
		if v, ok := fb[k]; ok {
			was = cut(v, maxValueBytes)
		}
		if v, ok := fa[k]; ok {
			now = cut(v, maxValueBytes)
		}
		out[i] = k + " " + was + " → " + now
	}
	return out
}
