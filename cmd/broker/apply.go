package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

const applyUsage = "usage: broker apply -f FILE [--dry-run] (with BROKER_URL and BROKER_API_KEY)"

// applyResult is what apply did, or would do, with one object.
type applyResult int

const (
	resultCreated applyResult = iota
	resultChanged
	resultUnchanged
	resultFailed
)

// runApply makes the broker hold the spaces, stacks, integrations, attachments and roles of a
// file: for each object, in dependency order, it reads the broker's, leaves it when it is
// equal, and otherwise PUTs the file's with If-Match of the version it read (If-None-Match: *
// when it found none, so that an object created meanwhile is not replaced). It prints one
// line per object; an object that fails does not stop the others, but for the spaces the file
// makes inherit and the roles it widens, which are then not applied; the command then exits 1.
// Before any of that it puts the narrowed forms narrowingFirst marks, and stops at the first that
// fails: what the file takes away goes before anything the file adds.
func runApply(ctx context.Context, e env, args []string) error {
	fs := newFlags("apply", e)
	file := fs.String("f", "", "file of spaces, stacks, integrations, attachments and roles, in the configuration file's YAML shape (required)")
	dryRun := fs.Bool("dry-run", false, "read the broker and print what would change, changing nothing")
	setSynopsis(fs, strings.TrimPrefix(applyUsage, "usage: "))
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *file == "" {
		return usagef("-f FILE is required; %s", applyUsage)
	}
	client, err := newAdminClient(e)
	if err != nil {
		return err
	}
	f, objects, err := readApplyFile(*file)
	if err != nil {
		return err
	}
	planned, planErr := narrowingFirst(ctx, client, objects)
	switch {
	case planErr == nil:
		objects = planned
	case !*dryRun:
		return fmt.Errorf("nothing was applied: %w", planErr)
	default:
		fmt.Fprintf(e.stdout, "dry run: the apply would change nothing: %s\n", oneLine(planErr.Error()))
	}
	a := &applier{client: client, dryRun: *dryRun}
	for _, o := range objects {
		if o.narrowed == nil || a.dryRun {
			continue
		}
		// What the file drops taken away before anything else: stop when it cannot be, rather
		// than let the spaces and stacks grant read or write through the rules or labels the
		// file drops.
		if err := a.narrow(ctx, o); err != nil {
			fmt.Fprintf(e.stdout, "%s failed: taking away what the file drops: %s\n", o.ref, oneLine(err.Error()))
			for _, n := range objects {
				if n.narrowed != nil && n.narrowed.after != 0 {
					fmt.Fprintln(e.stdout, leftLine(n))
				}
			}
			return fmt.Errorf("%s: the apply stopped before changing anything else", o.ref)
		}
	}
	var failed []string
	// failedObjs are the objects that failed, for what may grant behind them (waitsBehind).
	var failedObjs []applyObject
	// An object refused for a conflict with one applied later (an attachment taking a scope
	// another still holds) goes again once the pass is done.
	var again []applyObject
	done := func(o applyObject, line string, res applyResult) {
		fmt.Fprintln(e.stdout, line)
		a.counts[res]++
		if res == resultFailed {
			failed = append(failed, o.ref)
			failedObjs = append(failedObjs, o)
			if o.narrowed != nil && o.narrowed.after != 0 {
				// Putting the broker's back now could grant, beside what the apply changed
				// since, what neither the broker before nor the file grants.
				fmt.Fprintln(e.stdout, leftLine(o))
			}
		}
	}
	// put applies objs in order; one refused for a conflict is kept for later when retry is set,
	// and so is one that may grant behind it (holds.waitsBehind). One that may grant behind a
	// failed move is not applied.
	h := &holds{ctx: ctx, c: client}
	put := func(objs []applyObject, retry bool) (pending []applyObject) {
		for _, o := range objs {
			if h.waitsBehind(failedObjs, o) {
				done(o, o.ref+" not applied: it may grant where an object the file moves, which failed to move, still is", resultFailed)
				continue
			}
			if retry && h.waitsBehind(pending, o) {
				pending = append(pending, o)
				continue
			}
			line, res := a.apply(ctx, o)
			if retry && res == resultFailed && a.conflict && !a.dryRun {
				pending = append(pending, o)
				continue
			}
			done(o, line, res)
		}
		return pending
	}
	// retried puts pending again while each pass puts some of them.
	retried := func(pending []applyObject) []applyObject {
		for len(pending) > 0 {
			next := put(pending, true)
			if len(next) == len(pending) {
				break
			}
			pending = next
		}
		return pending
	}
	staged := map[applyStage][]applyObject{}
	for _, o := range objects {
		staged[o.stage] = append(staged[o.stage], o)
	}
	// skip reports objs not applied: they widen what the objects before them reach, and one of
	// those failed.
	skip := func(objs []applyObject) {
		for _, o := range objs {
			done(o, o.ref+" not applied: it widens what the objects before it reach, and one of them failed", resultFailed)
		}
	}
	again = retried(put(staged[stageMain], true))
	// The objects refused go again, then the spaces the file makes inherit (a move out of one
	// among those refused), then what was still refused once more (an attachment an inheritance
	// makes usable); a role the file widens goes last: widened before a space leaves a key's
	// binding, it would cover that space meanwhile. Neither goes once an object before it
	// failed, or is still refused and is not an attachment: it would widen what that object's
	// change was to take out of reach first.
	if len(failed) > 0 || slices.ContainsFunc(again, func(o applyObject) bool { return !isAttachment(o) }) {
		skip(staged[stageAfterRetries])
	} else {
		again = append(again, put(staged[stageAfterRetries], true)...)
	}
	put(again, false)
	if len(failed) > 0 {
		skip(staged[stageLast])
	} else {
		put(staged[stageLast], false)
	}
	if a.dryRun {
		// A dry run also checks the file against the broker's other objects, as the broker
		// would check each change.
		check, err := checkAgainstLive(ctx, client, f)
		if err != nil {
			return fmt.Errorf("dry run: reading the broker's objects to check the file against them: %w", err)
		}
		if check.skipped != "" {
			fmt.Fprintf(e.stdout, "dry run: the file was not checked against the broker's other objects: %s\n", check.skipped)
		}
		for _, p := range check.problems {
			fmt.Fprintf(e.stdout, "%s (the broker would refuse it)\n", p)
		}
		if n := len(check.problems); n > 0 {
			fmt.Fprintln(e.stdout, a.summary())
			return fmt.Errorf("dry run: the file breaks %d of the configuration rules against the broker's objects", n)
		}
	}
	fmt.Fprintln(e.stdout, a.summary())
	if planErr != nil {
		return fmt.Errorf("dry run: the apply would stop before changing anything: %w", planErr)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d objects failed: %s", len(failed), len(objects), strings.Join(failed, ", "))
	}
	return nil
}

// isAttachment reports whether o is a direct attachment: the one kind that may wait for an
// inheritance the file turns on, and the last kind of the file's order.
func isAttachment(o applyObject) bool {
	_, ok := o.desired.(config.Attachment)
	return ok
}

// readApplyFile reads and plans path; it refuses a file that holds anything but the five
// object lists, or none of them.
func readApplyFile(path string) (applyFile, []applyObject, error) {
	data, err := readInput(path, config.MaxFileBytes)
	if err != nil {
		return applyFile{}, nil, err
	}
	var f applyFile
	if err := config.DecodeYAML(path, data, &f); err != nil {
		return applyFile{}, nil, explainTopLevel(err)
	}
	objects, err := planApply(f, path)
	if err != nil {
		return applyFile{}, nil, err
	}
	if len(objects) == 0 {
		return applyFile{}, nil, fmt.Errorf("%s holds no spaces, stacks, integrations, attachments or roles to apply", path)
	}
	return f, objects, nil
}

// explainTopLevel adds to an unknown top-level key why broker apply does not take it.
func explainTopLevel(err error) error {
	var errs config.Errors
	if !errors.As(err, &errs) {
		return err
	}
	for _, fe := range errs {
		if fe.Msg != "unknown key" || strings.ContainsAny(fe.Path, ".[") {
			continue
		}
		if fe.Path == "api_keys" {
			fe.Msg += ": broker apply does not take API keys; create one with broker api-keys create, which shows its secret once"
		} else {
			fe.Msg += ": broker apply takes only spaces, stacks, integrations, attachments and roles"
		}
	}
	return errs
}

// applier applies objects one by one and counts the results.
type applier struct {
	client *adminClient
	// dryRun: read only, and say what would be done.
	dryRun bool
	counts [resultFailed + 1]int
	// conflict tells that the last apply was refused in a way an object applied later may
	// change: 409 conflict, or 400 (an attachment to an integration its stack may use only once
	// a space of the file inherits).
	conflict bool
}

// apply applies one object and returns its output line and result.
func (a *applier) apply(ctx context.Context, o applyObject) (string, applyResult) {
	var ae *apiError
	a.conflict = false
	fail := func(err error) (string, applyResult) {
		a.conflict = errors.As(err, &ae) && (ae.Status == http.StatusConflict || ae.Status == http.StatusBadRequest)
		return fmt.Sprintf("%s failed: %s", o.ref, oneLine(err.Error())), resultFailed
	}
	want, err := canonical(o.desired)
	if err != nil {
		return fail(err)
	}
	cur, err := o.current(ctx, a.client)
	if err != nil {
		return fail(err)
	}
	res := resultCreated
	// Created only while absent: an object another admin creates meanwhile is not replaced.
	ifMatch := catalog.NoVersion
	if cur != nil {
		ifMatch = cur.Version
		switch {
		case bytes.Equal(cur.canon, want) && cur.ManagedBy == catalog.ManagedByConfig:
			return o.ref + " unchanged (managed by config)", resultUnchanged
		case bytes.Equal(cur.canon, want) && o.narrowed != nil && !a.dryRun:
			return o.ref + " changed", resultChanged // by its narrowed form, put first
		case bytes.Equal(cur.canon, want):
			return o.ref + " unchanged", resultUnchanged
		case cur.ManagedBy == catalog.ManagedByConfig:
			return fail(errors.New("the broker's configuration file declares it otherwise; change it there (objects of the file are read-only through the API)"))
		}
		res = resultChanged
	}
	if a.dryRun {
		return fmt.Sprintf("%s %s (dry run)", o.ref, verb(res)), res
	}
	r, err := a.client.call(ctx, adminRequest{method: http.MethodPut, path: o.path, body: want, ifMatch: ifMatch})
	if err != nil {
		return fail(err)
	}
	if ifMatch == catalog.NoVersion && r.status != http.StatusCreated {
		// Only a broker that ignores If-None-Match (a release before it) answers so: it
		// replaced an object another admin created since this command read none.
		return fail(errors.New("the broker replaced an object created since it was read, ignoring If-None-Match: * (it is older than this command): read it and apply again"))
	}
	res = resultChanged
	if r.status == http.StatusCreated && (o.narrowed == nil || !o.narrowed.remove) {
		// Made again after the narrowing pass deleted it (held for write only): changed.
		res = resultCreated
	}
	return o.ref + " " + verb(res), res
}

func verb(r applyResult) string {
	switch r {
	case resultCreated:
		return "created"
	case resultChanged:
		return "changed"
	case resultUnchanged:
		return "unchanged"
	}
	return "failed"
}

// summary is apply's last line.
func (a *applier) summary() string {
	n := a.counts
	total := 0
	for _, c := range n {
		total += c
	}
	if n[resultUnchanged] == total {
		return fmt.Sprintf("no changes: all %d objects unchanged", total)
	}
	msg := fmt.Sprintf("%d created, %d changed, %d unchanged", n[resultCreated], n[resultChanged], n[resultUnchanged])
	if a.dryRun {
		msg = fmt.Sprintf("dry run, nothing changed: %d to create, %d to change, %d unchanged", n[resultCreated], n[resultChanged], n[resultUnchanged])
	}
	if n[resultFailed] > 0 {
		msg += fmt.Sprintf(", %d failed", n[resultFailed])
	}
	return msg
}

// leftLine says what the narrowing pass left of o, which the apply did not put.
func leftLine(o applyObject) string {
	if o.narrowed.remove {
		return o.ref + " deleted: it held only what the file drops"
	}
	return o.ref + " left with what the file drops taken away"
}
