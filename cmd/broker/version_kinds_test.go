package main

import (
	"encoding/json"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestVersionPrintsTheBuildVersion: broker version prints "broker VERSION" and a newline,
// VERSION being the one set at build time (-X main.version), else the module version, else
// "dev" (never "(devel)" nor empty); it takes no argument.
// Guards against: version.go `version != ""` negated
// Guards against: version.go "(devel)" check dropped
// Guards against: version.go "dev" -> ""
// Guards against: version.go output without the "broker " prefix
// Guards against: version.go parseFlags maxArgs 0 -> 1
func TestVersionPrintsTheBuildVersion(t *testing.T) {
	saved := version
	t.Cleanup(func() { version = saved })

	version = "v1.2.3"
	if r := runCLI(nil, "version"); r.code != 0 || r.stdout != "broker v1.2.3\n" {
		t.Errorf("version set at build time: %+v; want broker v1.2.3", r)
	}

	version = ""
	want := "dev"
	info, ok := debug.ReadBuildInfo()
	if ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		want = info.Main.Version
	}
	if r := runCLI(nil, "version"); r.code != 0 || r.stdout != "broker "+want+"\n" {
		t.Errorf("no version set: %+v; want broker %s", r, want)
	}

	if r := runCLI(nil, "version", "extra"); r.code != exitUsage || r.stdout != "" {
		t.Errorf("version extra: %+v; want a usage error", r)
	}

	// The binary go build makes carries no version of its own: "(devel)" is not shown.
	r := broker(t, nil, "version")
	shown := strings.TrimSpace(strings.TrimPrefix(r.stdout, "broker "))
	if r.code != 0 || !strings.HasPrefix(r.stdout, "broker ") || shown == "" || shown == "(devel)" {
		t.Errorf("broker version of a go build binary: %+v; want broker dev or its module version", r)
	}
}

// TestKindRowsShowEachField: each kind's `broker get` row shows the served object's
// fields in its header's order; an empty field, list or managedBy is "-", as is a version of 0;
// autoattach rules read LABEL:SCOPES (read+write, read, write or none) and bindings ROLE@SPACE.
// Guards against: kinds.go dash returning "" for an empty string
// Guards against: kinds.go versionCell `m.Version == 0` negated
// Guards against: kinds.go ruleScopes `r.Read && r.Write` -> `||`, "write" -> "read", "none" -> ""
// Guards against: kinds.go bindings "%s@%s" -> "%s:%s"
// Guards against: kinds.go space INHERIT fixed to false; PARENT without dash
// Guards against: kinds.go stack LABELS without dash; attachment MANAGED-BY without dash
// Guards against: kinds.go attachment READ and WRITE swapped; autoattach rule "label:" -> "label="
func TestKindRowsShowEachField(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind adminKind
		raw  string
		want []string
	}{
		{"space, most fields empty", kindSpace,
			`{"id":"prod","inherit":true,"managedBy":"api","version":3}`,
			[]string{"prod", "-", "true", "-", "-", "api", "3"}},
		{"space, version 0", kindSpace,
			`{"id":"base","parent":"root","labels":["a","b"],"managedBy":"config"}`,
			[]string{"base", "root", "false", "-", "a,b", "config", "-"}},
		{"stack without labels", kindStack,
			`{"id":"s","space":"prod","managedBy":"api","version":1}`,
			[]string{"s", "prod", "-", "api", "1"}},
		{"integration with every kind of rule", kindIntegration,
			`{"id":"i","space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/r"},` +
				`"autoattach":[{"label":"a","read":true,"write":true},{"label":"b","read":true},` +
				`{"label":"c","write":true},{"label":"d"}],"managedBy":"api","version":2}`,
			[]string{"i", "prod", "aws", "a:read+write,b:read,c:write,d:none", "api", "2"}},
		{"attachment of a rule", kindAttachment,
			`{"stack":"s","integration":"i","provider":"aws","read":true,"source":"autoattach:a"}`,
			[]string{"s", "i", "aws", "true", "false", "autoattach:a", "-", "-"}},
		{"role", kindRole,
			`{"id":"r","actions":["run:read","run:create"],"managedBy":"api","version":4}`,
			[]string{"r", "run:read,run:create", "api", "4"}},
		{"api key", kindAPIKey,
			`{"id":"k","bindings":[{"role":"orch","space":"root"},{"role":"r","space":"prod"}],` +
				`"managedBy":"api","version":1}`,
			[]string{"k", "orch@root,r@prod", "api", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.kind.row(json.RawMessage(tc.raw))
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("row = %q, %v; want %q", got, err, tc.want)
			}
			if len(got) != len(tc.kind.header) {
				t.Errorf("row of %d cells under a header of %d", len(got), len(tc.kind.header))
			}
		})
	}
}

// TestKindNamesAndWords: a kind is named by its singular or its plural, nothing else; the
// usage lists the plurals in the order spaces, stacks, integrations, attachments, roles,
// api-keys.
// Guards against: kinds.go kindNamed without the plural, or without the singular
// Guards against: kinds.go kindWords listing singulars; adminKinds reordered
func TestKindNamesAndWords(t *testing.T) {
	for _, tc := range []struct {
		word string
		want string // the kind's singular, "" for none
	}{
		{"space", "space"}, {"spaces", "space"}, {"stack", "stack"}, {"stacks", "stack"},
		{"integrations", "integration"}, {"attachment", "attachment"}, {"roles", "role"},
		{"api-key", "api-key"}, {"api-keys", "api-key"}, {"apikeys", ""}, {"Spaces", ""},
	} {
		k, ok := kindNamed(tc.word)
		if ok != (tc.want != "") || k.name != tc.want {
			t.Errorf("kindNamed(%q) = %q, %v; want %q", tc.word, k.name, ok, tc.want)
		}
	}
	if got, want := kindWords(), "spaces|stacks|integrations|attachments|roles|api-keys"; got != want {
		t.Errorf("kindWords() = %q, want %q", got, want)
	}
}
