package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/brokerhq/broker/internal/audit"
)

const auditUsage = "usage: broker audit verify [--space ID] [--jwks FILE] [--state FILE] [--checkpoint-every N] [--checkpoint-interval D] (with BROKER_URL and BROKER_API_KEY)"

// runAudit verifies the audit trail as the API serves it: every event's prev must be the hash
// of the event before it (RFC 8785 canonical JSON, SHA-256), and every checkpoint must be
// signed by a key of the issuer's JWKS over the events it covers, which must still be there
// unchanged. With --state it also checks that the trail still begins with what it verified the
// time before, and saves what it verified now. It verifies the pages as they come, keeping of
// the trail only what later checks need (audit.VerifyListed).
func runAudit(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		args = append([]string{"verify"}, args...) // broker audit -h: verify's help
	}
	if len(args) == 0 || args[0] != "verify" {
		return usagef(auditUsage)
	}
	fs := newFlags("audit verify", e)
	setSynopsis(fs, strings.TrimPrefix(auditUsage, "usage: "))
	space := fs.String("space", "root", "the space whose trail to verify: only root, which holds the whole chain and its checkpoints")
	jwksFile := fs.String("jwks", "", "verify checkpoints with the JWKS in this file instead of the one the broker's discovery names")
	stateFile := fs.String("state", "", "check the trail against what the last verification saved in this file, then save this one's (finds removed events)")
	every := fs.Int64("checkpoint-every", audit.DefaultCheckpointEvery, "the servers' audit.checkpoint.every, held to when no checkpoint that verifies names it")
	interval := fs.Duration("checkpoint-interval", audit.DefaultCheckpointInterval, "the servers' audit.checkpoint.interval, held to when no checkpoint that verifies names it")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	c, err := newAdminClient(e) // with a key holding audit:read
	if err != nil {
		return err
	}
	if *space != "root" {
		// A space's listing skips other spaces' events, so its links point outside it: it cannot
		// be checked, and a command that checked nothing must not pass.
		return usagef("only the whole chain can be verified (--space root, with a key holding audit:read on root): a space's events link to other spaces' events")
	}
	cfg, err := anchorConfig(ctx, c.http, c.baseURL, *jwksFile)
	if err == nil {
		cfg.State, err = readState(*stateFile)
	}
	if err == nil && (*every < 1 || *interval <= 0) {
		err = usagef("--checkpoint-every and --checkpoint-interval must be positive")
	}
	list := func(add func([]audit.Event)) error { return c.listTrail(ctx, *space, add) }
	if err != nil {
		// The trail is listed all the same: its errors (a broker that cannot be reached, a key
		// without audit:read) come before these.
		if lerr := list(func([]audit.Event) {}); lerr != nil {
			return lerr
		}
		return err
	}
	cfg.Every, cfg.Interval = *every, *interval // cfg.Now zero: each listing is checked as of when it begins
	r, err := audit.VerifyListed(list, cfg)
	if errors.Is(err, audit.ErrUnanchored) {
		return unpublishedNote(err, r)
	}
	if err != nil {
		return err
	}
	printReport(e, r, priorState{file: *stateFile, state: cfg.State})
	if *stateFile != "" {
		if err := writeState(*stateFile, r.State); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "state saved to %s\n", *stateFile)
	}
	return nil
}

// listTrail pages through GET /v1/audit for space, with the client's API key, handing each page
// to add as it comes: a page is let go once add returns. Each event is read exactly as listed
// (audit.ParseEvent), and a listing that does not move on (a page without its events, a page
// that names a next page but holds no event, or a next page named before) is an error rather
// than a loop.
func (c *adminClient) listTrail(ctx context.Context, space string, add func([]audit.Event)) error {
	after := ""
	// seen holds every next page named so far: pages whose cursors come round again (a, b, a,
	// ...) do not move on either, though no page names its own cursor.
	seen := map[string]bool{}
	for {
		q := url.Values{"space": {space}, "limit": {"1000"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Events *[]json.RawMessage `json:"events"`
			Next   string             `json:"next"`
		}
		if err := getJSON(ctx, c.http, jsonRequest{url: c.baseURL + "/v1/audit?" + q.Encode(), bearer: c.apiKey}, &page); err != nil {
			return err
		}
		if page.Events == nil {
			return errors.New("the audit listing has no events member: it is not a broker's")
		}
		events := make([]audit.Event, len(*page.Events))
		for i, raw := range *page.Events {
			e, err := audit.ParseEvent(raw)
			if err != nil {
				return fmt.Errorf("the audit listing is not as broker lists events, so it cannot be verified: %w", err)
			}
			events[i] = e
		}
		add(events)
		switch {
		case page.Next == "":
			return nil
		case len(events) == 0 || seen[page.Next]:
			return errors.New("the audit listing does not move on: a page names a next page but holds no new events")
		}
		seen[page.Next] = true
		after = page.Next
	}
}

// jsonRequest is a GET of a JSON document.
type jsonRequest struct {
	// url is the document's absolute URL.
	url string
	// bearer is the secret sent as a bearer token; empty sends no Authorization header.
	bearer string
}

// getJSON fetches req with client and decodes a 200 answer into out.
func getJSON(ctx context.Context, client *http.Client, req jsonRequest, out any) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.url, nil)
	if err != nil {
		return err
	}
	if req.bearer != "" {
		hreq.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return fmt.Errorf("cannot reach broker: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp.Body, 64<<20)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(resp, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: the answer is not the expected JSON: %w", req.url, err)
	}
	return nil
}
