package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
)

var getUsage = "usage: broker get " + kindWords() + " [ID] [-o table|json] (broker get attachments STACK; with BROKER_URL and BROKER_API_KEY)"

// runGet prints one kind's objects, or one of them, as the broker shows them to the API key:
// a table, or the broker's JSON with -o json.
func runGet(ctx context.Context, e env, args []string) error {
	fs := newFlags("get", e)
	output := fs.String("o", "table", "output: table or json (the broker's answer)")
	setSynopsis(fs, strings.TrimPrefix(getUsage, "usage: "))
	pos, err := parseInterleaved(fs, args, 2)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing kind; %s", getUsage)
	}
	k, ok := kindNamed(pos[0])
	if !ok {
		return usagef("unknown kind %s; %s", shownArg(pos[0]), getUsage)
	}
	id := ""
	if len(pos) == 2 {
		id = pos[1]
	}
	if *output != "table" && *output != "json" {
		return usagef("-o must be table or json, not %s", shownArg(*output))
	}
	if k.name == kindAttachment.name && id == "" {
		return usagef("attachments are listed per stack: broker get attachments STACK")
	}
	if id != "" {
		if err := checkID("the id", id); err != nil {
			return err
		}
	}
	client, err := newAdminClient(e)
	if err != nil {
		return err
	}
	body, objects, err := fetchForGet(ctx, client, k, id)
	if err != nil {
		return err
	}
	if *output == "json" {
		var out bytes.Buffer
		if err := json.Indent(&out, bytes.TrimSpace(body), "", "  "); err != nil {
			return fmt.Errorf("broker's answer is not JSON: %w", err)
		}
		out.WriteByte('\n')
		_, err := e.stdout.Write(out.Bytes())
		return err
	}
	return printTable(e, k, objects)
}

// fetchForGet returns the broker's answer (for -o json) and the objects in it.
func fetchForGet(ctx context.Context, c *adminClient, k adminKind, id string) ([]byte, []json.RawMessage, error) {
	path, name := k.path, k.list
	switch {
	case k.name == kindAttachment.name:
		path = kindStack.path + "/" + url.PathEscape(id) + "/attachments"
	case id != "" && !k.listOnly:
		path, name = k.path+"/"+url.PathEscape(id), k.one
	}
	r, err := c.call(ctx, adminRequest{method: http.MethodGet, path: path})
	if err != nil {
		return nil, nil, err
	}
	raw, err := field(r.body, name)
	if err != nil {
		return nil, nil, err
	}
	if name == k.one {
		return r.body, []json.RawMessage{raw}, nil
	}
	all, err := items(raw)
	if err != nil || id == "" || !k.listOnly {
		return r.body, all, err
	}
	// The API serves this kind only as a listing: pick the object out, and answer it alone
	// under the singular name.
	for _, obj := range all {
		var o struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(obj, &o) == nil && o.ID == id {
			return fmt.Appendf(nil, "{%q:%s}", k.one, obj), []json.RawMessage{obj}, nil
		}
	}
	return nil, nil, fmt.Errorf("no %s %q that this API key may see", k.name, id)
}

// printTable prints objects as aligned columns under the kind's header.
func printTable(e env, k adminKind, objects []json.RawMessage) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(k.header, "\t"))
	for _, raw := range objects {
		row, err := k.row(raw)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
