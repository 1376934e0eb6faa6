package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDryRunChecksEachObjectOfTheFile: a dry run checks the file's objects with the configuration
// rules, a changed object of the broker in place of the broker's one. A file with exactly one
// object the broker would refuse exits 1 and says so, like a file with several: a stack in a
// missing space, one of the broker's stacks (the first too) moved to one (the broker's old, valid
// object does not hide it), a role with an action that does not exist. A valid change of the
// broker's first stack passes: it is not taken for a second stack of the same id.
// Guards against: apply.go:89 `n > 0` -> `n > 1`
// Guards against: apply_check.go:64 `i >= 0` -> `i > 0`; apply_check.go:65 `list[i] = o` removed
// Guards against: apply_check.go:52 `Roles: slices.Clone(f.Roles)` -> `Roles: nil`
func TestDryRunChecksEachObjectOfTheFile(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/stacks/s1", `{"space":"base"}`)
	b.put(t, "/v1/stacks/s2", `{"space":"base"}`)
	for _, tc := range []struct {
		name, file string
		want       []string // in stdout
	}{
		{"a stack in a missing space", "stacks:\n  - {id: lost, space: nowhere}\n", []string{"stack/lost.space: "}},
		{"the first stack moved to a missing space", "stacks:\n  - {id: s1, space: nowhere}\n", []string{"stack/s1.space: ", "nowhere"}},
		{"the second stack moved to a missing space", "stacks:\n  - {id: s2, space: nowhere}\n", []string{"stack/s2.space: ", "nowhere"}},
		{"a role with an unknown action", "roles:\n  - {id: deployer, actions: [run:fly]}\n",
			[]string{"role/deployer.actions[0]: ", "run:fly", "(the broker would refuse it)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.cli(t, liveAdmin, "apply", "--dry-run", "-f", writeFile(t, "f.yaml", tc.file))
			if r.code != 1 || !strings.Contains(r.stderr, "the file breaks 1 of the configuration rules") {
				t.Errorf("got %+v, want exit 1 for one problem", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("the output does not say %q: %+v", w, r)
				}
			}
		})
	}
	for _, tc := range []struct{ name, file, line string }{
		{"valid change of the first stack", "stacks:\n  - {id: s1, space: base, labels: [net]}\n", "stack/s1 changed (dry run)"},
		{"valid change of the second stack", "stacks:\n  - {id: s2, space: root}\n", "stack/s2 changed (dry run)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.cli(t, liveAdmin, "apply", "--dry-run", "-f", writeFile(t, "f.yaml", tc.file))
			want := []string{tc.line, "dry run, nothing changed: 0 to create, 1 to change, 0 unchanged"}
			if r.code != 0 || !slices.Equal(lines(r.stdout), want) {
				t.Errorf("got %+v, want exit 0 and lines %q", r, want)
			}
		})
	}
	if n := b.writeCount(); n != 2 {
		t.Errorf("the dry runs sent changing requests: %v", b.writesSince(2))
	}
}

// TestDryRunLeavesTheBrokersOwnProblemsOut: problems the broker's objects already have (here a
// stack whose space the broker does not list) are not the file's: a dry run of a valid file still
// passes.
// Guards against: apply_check.go:38 `!slices.Contains(before, p)` -> `true`
func TestDryRunLeavesTheBrokersOwnProblemsOut(t *testing.T) {
	answers := map[string]string{
		"/v1/spaces":                 `{"spaces":[{"id":"root","managedBy":"config","version":1}]}`,
		"/v1/stacks":                 `{"stacks":[{"id":"old","space":"ghost","managedBy":"api","version":3}]}`,
		"/v1/integrations":           `{"integrations":[]}`,
		"/v1/stacks/old/attachments": `{"attachments":[]}`,
	}
	var writes atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		if a, ok := answers[r.URL.Path]; ok && r.Method == http.MethodGet {
			_, _ = w.Write([]byte(a))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such object"}}`))
	}))
	t.Cleanup(ts.Close)
	r := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin},
		"apply", "--dry-run", "-f", writeFile(t, "f.yaml", "stacks:\n  - {id: fine, space: root}\n"))
	want := []string{"stack/fine created (dry run)", "dry run, nothing changed: 1 to create, 0 to change, 0 unchanged"}
	if r.code != 0 || !slices.Equal(lines(r.stdout), want) || r.stderr != "" {
		t.Errorf("dry run against a broker with a problem of its own: %+v", r)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("the dry run sent %d changing requests", n)
	}
}

// TestApplyAttachmentIsFoundByIntegrationAndSource: apply compares a file's attachment only with
// the stack's direct attachment of the same integration: an attachment an autoattach rule makes is
// not it (apply creates the direct one), and another integration's direct attachment is not it
// either (apply creates this one, create-only).
// Guards against: applyplan.go:119 `|| at.Source != config.SourceDirect` removed; applyplan.go:119
// `at.Integration != a.Integration ||` removed
func TestApplyAttachmentIsFoundByIntegrationAndSource(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net"]}`)
	b.put(t, "/v1/integrations/aws-read", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/r"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/vault-w", `{"space":"prod","vault":{"address":"http://127.0.0.1:8200","role":"w"}}`)
	b.put(t, "/v1/integrations/vault-x", `{"space":"prod","vault":{"address":"http://127.0.0.1:8200","role":"x"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/vault-w", `{"write":true}`)
	before := b.writeCount()

	file := "attachments:\n  - {stack: vpc, integration: aws-read, read: true}\n  - {stack: vpc, integration: vault-x, read: true}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "a.yaml", file))
	want := []string{"attachment/vpc/aws-read created", "attachment/vpc/vault-x created", "2 created, 0 changed, 0 unchanged"}
	if r.code != 0 || !slices.Equal(lines(r.stdout), want) {
		t.Fatalf("apply: %+v, want lines %q", r, want)
	}
	wantWrites := []string{
		"PUT /v1/stacks/vpc/attachments/aws-read If-Match= If-None-Match=*",
		"PUT /v1/stacks/vpc/attachments/vault-x If-Match= If-None-Match=*",
	}
	if w := b.writesSince(before); !slices.Equal(w, wantWrites) {
		t.Errorf("changing requests %v, want %v", w, wantWrites)
	}
	g := b.cli(t, liveAdmin, "get", "attachments", "vpc")
	if !strings.Contains(g.stdout, "direct") || len(table(t, g.stdout)) < 3 {
		t.Errorf("attachments of vpc after apply:\n%s", g.stdout)
	}
	var direct []string
	for _, row := range table(t, g.stdout) {
		if row[5] == "direct" {
			direct = append(direct, row[1])
		}
	}
	slices.Sort(direct)
	if !slices.Equal(direct, []string{"aws-read", "vault-w", "vault-x"}) {
		t.Errorf("direct attachments %v, want aws-read, vault-w and vault-x:\n%s", direct, g.stdout)
	}
}

// TestApplyRefusesRepeatedIDsOfEveryKind: a file that gives an id twice within any kind (roles,
// spaces, stacks, integrations, attachments) is refused as a whole, with one line naming both
// places, before any request changes anything.
// Guards against: applyplan.go:202 check("roles", ...) removed; applyplan.go:203 check("spaces",
// ...) removed; applyplan.go:205 check("integrations", ...) removed
func TestApplyRefusesRepeatedIDsOfEveryKind(t *testing.T) {
	b := startLive(t, liveFile(""))
	const aws = `aws: {role_arn: "arn:aws:iam::123456789012:role/r"}`
	cases := []struct{ name, file, want string }{
		{"roles", "roles:\n  - {id: r, actions: [run:read]}\n  - {id: r, actions: [run:create]}\n", `roles[1]: "r" is given twice (first at roles[0])`},
		{"spaces", "spaces:\n  - {id: p, parent: root}\n  - {id: p, parent: base}\n", `spaces[1]: "p" is given twice (first at spaces[0])`},
		{"stacks", "stacks:\n  - {id: s, space: base}\n  - {id: s, space: root}\n", `stacks[1]: "s" is given twice (first at stacks[0])`},
		{"integrations", "integrations:\n  - {id: i, space: base, " + aws + "}\n  - {id: i, space: root, " + aws + "}\n", `integrations[1]: "i" is given twice (first at integrations[0])`},
		{"attachments", "attachments:\n  - {stack: s, integration: i, read: true}\n  - {stack: s, integration: i, write: true}\n", `attachments[1]: "s/i" is given twice (first at attachments[0])`},
		{"role without id", "roles:\n  - {actions: [run:read]}\n", "roles[0]: id is required"},
		{"integration without id", "integrations:\n  - {space: base, " + aws + "}\n", "integrations[0]: id is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "f.yaml", tc.file))
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("apply: %+v; want exit 1, no output and one line with %q", r, tc.want)
			}
		})
	}
	if n := b.writeCount(); n != 0 {
		t.Errorf("refused files sent changing requests: %v", b.writesSince(0))
	}
}

// TestApplySummaryNeverCallsFailuresUnchanged: when every object fails, apply's last line counts
// the failures and exits 1; it never says "no changes: all N objects unchanged".
// Guards against: apply.go:220 `n[resultUnchanged] == total` -> `n[resultUnchanged]+n[resultFailed]
// == total`
func TestApplySummaryNeverCallsFailuresUnchanged(t *testing.T) {
	b := startLive(t, liveFile(""))
	r := b.cli(t, liveReader, "apply", "-f", writeFile(t, "g.yaml", "stacks:\n  - {id: s9, space: base}\n"))
	got := lines(r.stdout)
	if r.code != 1 || len(got) != 2 || !strings.HasPrefix(got[0], "stack/s9 failed: ") ||
		got[1] != "0 created, 0 changed, 0 unchanged, 1 failed" {
		t.Errorf("apply where every object fails: %+v", r)
	}
	if r.stderr != "broker apply: 1 of 1 objects failed: stack/s9\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	// One unchanged and one failed is not "no changes" either.
	r = b.cli(t, liveReader, "apply", "-f", writeFile(t, "h.yaml", "spaces:\n  - {id: root}\nstacks:\n  - {id: s9, space: base}\n"))
	got = lines(r.stdout)
	if r.code != 1 || len(got) != 3 || !slices.Contains(got, "0 created, 0 changed, 1 unchanged, 1 failed") {
		t.Errorf("apply with one unchanged and one failed object: %+v", r)
	}
}

// TestApplyExplainsOnlyTopLevelKeys: only an unknown top-level key gets apply's explanation (it
// takes only the five object lists); an unknown field inside an object is refused as just that,
// without a misleading hint that the object list itself is not taken.
// Guards against: apply.go:129 `|| strings.ContainsAny(fe.Path, ".[")` removed
func TestApplyExplainsOnlyTopLevelKeys(t *testing.T) {
	for _, tc := range []struct{ name, file, want, not string }{
		{"nested", "spaces:\n  - {id: a, parent: root, issuer: x}\n", "spaces[0].issuer: unknown key", "takes only"},
		{"nested api_keys", "stacks:\n  - {id: a, space: root, api_keys: x}\n", "stacks[0].api_keys: unknown key", "api-keys create"},
		{"top level", "issuer: x\nstacks:\n  - {id: a, space: root}\n", "issuer: unknown key: broker apply takes only spaces", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_API_KEY": "brk_x"}, "apply", "-f", writeFile(t, "f.yaml", tc.file))
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || (tc.not != "" && strings.Contains(r.stderr, tc.not)) {
				t.Errorf("%+v; want exit 1 and %q without %q", r, tc.want, tc.not)
			}
		})
	}
}

// TestReadInputTakesAFileOfExactlyTheCap: a file of exactly the cap is read whole; one byte more is
// refused.
// Guards against: files.go:31 `info.Size() > limit` -> `>=`; files.go:38 `len(data) > limit` ->
// `>=`
func TestReadInputTakesAFileOfExactlyTheCap(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		size int
		ok   bool
	}{{0, true}, {15, true}, {16, true}, {17, false}} {
		path := filepath.Join(dir, "f")
		content := bytes.Repeat([]byte("x"), tc.size)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		data, err := readInput(path, 16)
		if tc.ok && (err != nil || !bytes.Equal(data, content)) {
			t.Errorf("readInput of %d bytes with a cap of 16: %d bytes, %v; want them all", tc.size, len(data), err)
		}
		if !tc.ok && err == nil {
			t.Errorf("readInput of %d bytes with a cap of 16 read %d bytes, want an error", tc.size, len(data))
		}
	}
}
