package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

const apiKeysUsage = "usage: broker api-keys create --id ID --bind ROLE@SPACE [--bind ROLE@SPACE...] [-o text|json] (with BROKER_URL and BROKER_API_KEY; list with broker get api-keys, delete with broker delete api-key ID)"

// bindFlags collects repeated --bind ROLE@SPACE flags.
type bindFlags []config.Binding

func (b *bindFlags) String() string { return bindings(*b) }

func (b *bindFlags) Set(v string) error {
	role, space, ok := strings.Cut(v, "@")
	if !ok || role == "" || space == "" || strings.Contains(space, "@") {
		return fmt.Errorf("want ROLE@SPACE, not %q", v)
	}
	*b = append(*b, config.Binding{Role: role, Space: space})
	return nil
}

// createdKey is POST /v1/api-keys's answer.
type createdKey struct {
	APIKey json.RawMessage `json:"apiKey"`
	Secret string          `json:"secret"`
}

// runAPIKeys creates an API key and prints its secret, the one time the broker shows it.
func runAPIKeys(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		args = append([]string{"create"}, args...) // broker api-keys -h: create's help
	}
	if len(args) == 0 || args[0] != "create" {
		return usagef(apiKeysUsage)
	}
	fs := newFlags("api-keys create", e)
	setSynopsis(fs, strings.TrimPrefix(apiKeysUsage, "usage: "))
	id := fs.String("id", "", "the new key's id (required)")
	var binds bindFlags
	fs.Var(&binds, "bind", "a role on a space, ROLE@SPACE; repeat for more (at least one)")
	output := fs.String("o", "text", "output: text, or json (the broker's answer, secret included)")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	switch {
	case *id == "":
		return usagef("--id is required; %s", apiKeysUsage)
	case len(binds) == 0:
		return usagef("at least one --bind ROLE@SPACE is required")
	case *output != "text" && *output != "json":
		return usagef("-o must be text or json, not %s", shownArg(*output))
	}
	if err := checkID("--id", *id); err != nil {
		return err
	}
	for _, b := range binds {
		if err := checkID("--bind's role", b.Role); err != nil {
			return err
		}
		if err := checkID("--bind's space", b.Space); err != nil {
			return err
		}
	}
	client, err := newAdminClient(e)
	if err != nil {
		return err
	}
	body, err := config.EncodeJSON(servedAPIKey{ID: *id, Bindings: binds})
	if err != nil {
		return err
	}
	r, err := client.call(ctx, adminRequest{method: http.MethodPost, path: kindAPIKey.path, body: body})
	if err != nil {
		return err
	}
	var ans createdKey
	if err := json.Unmarshal(r.body, &ans); err != nil || ans.Secret == "" {
		return fmt.Errorf("broker's answer holds no secret")
	}
	if *output == "json" {
		_, err = e.stdout.Write(r.body)
		return err
	}
	// The key exists now and its secret is in this answer only: an answer this build cannot
	// read in full (a newer broker's fields) still shows it, with the key as it was asked for.
	key, _, err := decodeServed[servedAPIKey](ans.APIKey)
	if err != nil {
		fmt.Fprintf(e.stderr, "broker: the answer describes the key in a form this build does not read (%v); showing it as asked for\n", err)
		key = servedAPIKey{ID: *id, Bindings: binds}
	}
	_, err = fmt.Fprintf(e.stdout, "api-key/%s created, bound to %s\nsecret (shown once; the broker keeps only its hash): %s\n",
		key.ID, bindings(key.Bindings), ans.Secret)
	return err
}
