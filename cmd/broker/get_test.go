package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// seed creates through the API a space, a stack, an integration with an autoattach rule and
// a direct attachment.
func seed(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/spaces/prod", `{"parent":"root","inherit":true,"labels":["tier1","eu"]}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net"]}`)
	b.put(t, "/v1/integrations/aws-read", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/r"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/vault-w", `{"space":"prod","vault":{"address":"http://127.0.0.1:8200","role":"w"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/vault-w", `{"write":true}`)
}

// table reads aligned columns: every cell starts where its header does. It returns the rows
// as cells, header excluded.
func table(t *testing.T, out string) [][]string {
	t.Helper()
	ls := lines(out)
	if len(ls) == 0 {
		t.Fatalf("no table in %q", out)
	}
	header := strings.Fields(ls[0])
	starts := make([]int, len(header))
	for i, h := range header {
		from := 0
		if i > 0 {
			from = starts[i-1] + len(header[i-1])
		}
		starts[i] = from + strings.Index(ls[0][from:], h)
	}
	var rows [][]string
	for _, l := range ls[1:] {
		var row []string
		for i, s := range starts {
			if len(l) <= s || l[s] == ' ' || (s > 0 && l[s-1] != ' ') {
				t.Fatalf("column %s not aligned in line %q\n%s", header[i], l, out)
			}
			end := len(l)
			if i+1 < len(starts) {
				end = starts[i+1]
			}
			row = append(row, strings.TrimSpace(l[s:end]))
		}
		rows = append(rows, row)
	}
	return rows
}

func TestGetTable(t *testing.T) {
	b := startLive(t, liveFile(""))
	seed(t, b)
	cases := []struct {
		args []string
		key  string
		want [][]string
	}{
		{[]string{"get", "spaces"}, liveAdmin, [][]string{
			{"root", "-", "false", "-", "-", "config", "1"},
			{"base", "root", "false", "-", "file", "config", "1"},
			{"prod", "root", "true", "-", "tier1,eu", "api", "1"},
		}},
		{[]string{"get", "spaces"}, liveBaseKey, [][]string{{"base", "root", "false", "-", "file", "config", "1"}}},
		{[]string{"get", "stack", "vpc"}, liveAdmin, [][]string{{"vpc", "prod", "net", "api", "1"}}},
		{[]string{"get", "integrations"}, liveAdmin, [][]string{
			{"aws-read", "prod", "aws", "net:read", "api", "1"},
			{"vault-w", "prod", "vault", "-", "api", "1"},
		}},
		{[]string{"get", "attachments", "vpc"}, liveAdmin, [][]string{
			{"vpc", "vault-w", "vault", "false", "true", "direct", "api", "1"},
			{"vpc", "aws-read", "aws", "true", "false", "autoattach:net", "-", "-"},
		}},
		{[]string{"get", "roles", "reader"}, liveAdmin, [][]string{{"reader", "run:read", "config", "1"}}},
		{[]string{"get", "api-keys"}, liveAdmin, [][]string{
			{"admin", "admin@root", "config", "1"},
			{"reader", "reader@root", "config", "1"},
			{"base-admin", "admin@base", "config", "1"},
		}},
		{[]string{"get", "api-key", "reader"}, liveAdmin, [][]string{{"reader", "reader@root", "config", "1"}}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := b.cli(t, tc.key, tc.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%+v", r)
			}
			if got := table(t, r.stdout); !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("rows %q, want %q\n%s", got, tc.want, r.stdout)
			}
			if strings.Contains(r.stdout, sha(liveAdmin)) || strings.Contains(r.stdout, sha(liveReader)) {
				t.Error("output holds a key's hash")
			}
		})
	}
}

func TestGetJSONIsTheBrokersAnswer(t *testing.T) {
	b := startLive(t, liveFile(""))
	seed(t, b)
	var list struct {
		Spaces []map[string]any `json:"spaces"`
	}
	r := b.cli(t, liveAdmin, "get", "-o", "json", "spaces")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list.Spaces) != 3 {
		t.Fatalf("get -o json spaces: %+v", r)
	}
	if p := list.Spaces[2]; p["id"] != "prod" || p["managedBy"] != "api" || p["version"] != float64(1) || p["inherit"] != true {
		t.Errorf("prod as listed: %v", p)
	}
	var one struct {
		Integration map[string]any `json:"integration"`
	}
	r = b.cli(t, liveAdmin, "get", "integration", "vault-w", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &one) != nil || one.Integration["id"] != "vault-w" ||
		one.Integration["vault"].(map[string]any)["mount"] != "jwt" {
		t.Fatalf("get integration -o json: %+v", r)
	}
	var key struct {
		APIKey map[string]any `json:"apiKey"`
	}
	r = b.cli(t, liveAdmin, "get", "api-keys", "base-admin", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &key) != nil || key.APIKey["id"] != "base-admin" || len(key.APIKey) != 4 {
		t.Fatalf("get api-keys ID -o json: %+v", r)
	}
}

func TestAdminCommandErrors(t *testing.T) {
	b := startLive(t, liveFile(""))
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"get without kind", nil, []string{"get"}, 2, "missing kind"},
		{"get unknown kind", nil, []string{"get", "runs"}, 2, `unknown kind "runs"`},
		{"get bad output", nil, []string{"get", "spaces", "-o", "yaml"}, 2, "-o must be table or json"},
		{"get attachments without stack", nil, []string{"get", "attachments"}, 2, "broker get attachments STACK"},
		{"get too many", nil, []string{"get", "spaces", "a", "b"}, 2, `unexpected argument "b"`},
		{"get without key", map[string]string{"BROKER_URL": b.url}, []string{"get", "spaces"}, 2, "BROKER_API_KEY"},
		{"get without url", map[string]string{"BROKER_API_KEY": liveAdmin}, []string{"get", "spaces"}, 2, "BROKER_URL"},
		{"get no such space", nil, []string{"get", "space", "nope"}, 1, "404"},
		{"get no such key", nil, []string{"get", "api-keys", "nope"}, 1, `no api-key "nope"`},
		{"get wrong key", map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": "wrong"}, []string{"get", "spaces"}, 1, "401"},
		{"apply without file", nil, []string{"apply"}, 2, "-f FILE is required"},
		{"apply with an argument", nil, []string{"apply", "-f", "x.yaml", "extra"}, 2, `unexpected argument "extra"`},
		{"apply without key", map[string]string{"BROKER_URL": b.url}, []string{"apply", "-f", "x.yaml"}, 2, "BROKER_API_KEY"},
		{"apply missing file", nil, []string{"apply", "-f", "/nonexistent/x.yaml"}, 1, "/nonexistent/x.yaml"},
		{"delete without id", nil, []string{"delete", "stack"}, 2, "missing kind or id"},
		{"delete unknown kind", nil, []string{"delete", "run", "x"}, 2, `unknown kind "run"`},
		{"delete attachment without integration", nil, []string{"delete", "attachment", "vpc"}, 2, "STACK/INTEGRATION"},
		{"delete no such stack", nil, []string{"delete", "stack", "nope"}, 1, "404"},
		{"delete object of the file", nil, []string{"delete", "space", "base"}, 1, "409"},
		{"api-keys without create", nil, []string{"api-keys"}, 2, "broker api-keys create"},
		{"api-keys list", nil, []string{"api-keys", "list"}, 2, "broker get api-keys"},
		{"api-keys without id", nil, []string{"api-keys", "create", "--bind", "reader@root"}, 2, "--id is required"},
		{"api-keys without binding", nil, []string{"api-keys", "create", "--id", "k2"}, 2, "--bind ROLE@SPACE is required"},
		{"api-keys bad binding", nil, []string{"api-keys", "create", "--id", "k2", "--bind", "reader"}, 2, `want ROLE@SPACE, not "reader"`},
		{"api-keys existing id", nil, []string{"api-keys", "create", "--id", "reader", "--bind", "reader@root"}, 1, "409"},
		{"get broker down", map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_API_KEY": "x"}, []string{"get", "spaces"}, 1, "cannot reach broker"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := tc.env
			if vars == nil {
				vars = map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": liveAdmin}
			}
			r := runCLI(vars, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d (want %d), stderr %q (want one line with %q)", r.code, tc.code, r.stderr, tc.msg)
			}
		})
	}
}
