package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestServeLogsInTheFormatAsked runs serve in-process on a configuration file that loads but
// cannot start (vault-transit without VAULT_TOKEN): the line logged before the start fails is in
// the format --log-format asks for, and JSON when stderr is not a terminal and none is asked.
// Guards against: serve.go:runServe building its logger from another format than the one chosen
func TestServeLogsInTheFormatAsked(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "")
	path := writeFile(t, "broker.yaml", "issuer: http://127.0.0.1:8080\nkeys:\n"+
		"  backend: vault-transit\n  algorithm: ES256\n"+
		"  vault_transit: {address: \"http://127.0.0.1:1\", mount: transit, key: broker-oidc}\n")
	for _, c := range []struct {
		flags  []string
		format string
	}{
		{[]string{"--log-format", "text"}, "text"},
		{[]string{"--log-format", "json"}, "json"},
		{nil, "json"},
	} {
		args := append([]string{"serve", "--config", path}, c.flags...)
		res := runCLI(map[string]string{}, args...)
		if res.code == 0 || !strings.Contains(res.stderr, "VAULT_TOKEN") {
			t.Fatalf("%v: exit %d, stderr %q; want a refusal naming VAULT_TOKEN", args, res.code,
				res.stderr)
		}
		var starting string
		for _, l := range lines(res.stderr) {
			if strings.Contains(l, "starting with configuration file") {
				starting = l
			}
		}
		var rec map[string]any
		isJSON := json.Unmarshal([]byte(starting), &rec) == nil
		isText := strings.HasPrefix(starting, "time=") &&
			strings.Contains(starting, `msg="starting with configuration file"`)
		if got := map[bool]string{true: "json", false: "text"}[isJSON]; got != c.format ||
			!isJSON && !isText {
			t.Errorf("%v: starting line %q, want it in %s", args, starting, c.format)
		}
	}
}
