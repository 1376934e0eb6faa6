package claims

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/oklog/ulid/v2"
)

func TestTemplateRender(t *testing.T) {
	subj := Subject{
		SpaceID:    "prod",
		SpacePath:  []string{"root", "infra", "prod"},
		CallerType: CallerTypeStack,
		CallerID:   "vpc-prod",
		Run: runs.Run{
			ID: "01JTESTRUN0000000000000000", RunType: runs.Tracked,
			Phase: runs.Applying, Scope: runs.Write,
		},
	}
	cases := []struct {
		name, template, want string
	}{
		{"default", "", "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"},
		{"explicit default", DefaultSubjectTemplate, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"},
		{"contract example", "space:{spaceId}:stack:{callerId}:scope:{scope}", "space:prod:stack:vpc-prod:scope:write"},
		{"path", "{spacePath}:{callerType}/{callerId}/{scope}", "root/infra/prod:stack/vpc-prod/write"},
		{"run fields", "{callerId}:{runId}/{runType}/{runPhase}:{scope}", "vpc-prod:01JTESTRUN0000000000000000/TRACKED/APPLYING:write"},
		{"literals glued to values", "x{callerId}y:z{scope}", "xvpc-prody:zwrite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := ParseTemplate(tc.template)
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tc.template, err)
			}
			if got := tmpl.Render(subj); got != tc.want {
				t.Errorf("Render = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	cases := []struct{ template, wantInErr string }{
		{"space:{space}", "{space}"},
		{"{SPACEID}", "{SPACEID}"},
		{"space:{spaceId", "unbalanced '{'"},
		{"space:spaceId}", "unbalanced '}'"},
		{"{{spaceId}}", "unbalanced '{'"},
		{"{}", "{}"},
		// Templates whose subs could name two stacks, or both scopes of one stack.
		{"fixed", "missing {callerId}"},
		{"repo:{spacePath}:{callerId}", "missing {scope}"},
		{"{spaceId}-{callerId}-{scope}", `separator "-" between {spaceId} and {callerId} must hold ':' or '/'`},
		{"space:{spaceId}:stack:{callerId}{runId}:{scope}", "{callerId} and {runId} need a separator holding ':' or '/'"},
		{"{spacePath}/{callerId}:{scope}", `separator "/" between {spacePath} and {callerId} must hold ':'`},
		{"{callerId}/{spacePath}:{scope}", `separator "/" between {callerId} and {spacePath} must hold ':'`},
		{"s:{callerId}:*:{scope}", "wildcard '*'"},
		{"s:{callerId}:{scope}?", "wildcard '?'"},
		{"s:{callerId}: {scope}", "printable ASCII, not ' '"},
		{"s:{callerId}:é:{scope}", "printable ASCII, not 'é'"},
		{strings.Repeat("x", 250) + ":{callerId}:{scope}", "longer than 256 bytes"},
	}
	for _, tc := range cases {
		_, err := ParseTemplate(tc.template)
		if err == nil {
			t.Errorf("ParseTemplate(%q) succeeded, want error", tc.template)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("ParseTemplate(%q) error %q does not mention %q", tc.template, err, tc.wantInErr)
		}
	}
}

// TestEveryConfigPlaceholderRenders keeps config's list and this package's values equal.
func TestEveryConfigPlaceholderRenders(t *testing.T) {
	for _, name := range config.SubjectPlaceholders {
		if _, err := ParseTemplate("{callerId}:{scope}:{" + name + "}"); err != nil {
			t.Errorf("config allows {%s} but claims cannot render it: %v", name, err)
		}
	}
	if len(placeholders) != len(config.SubjectPlaceholders) {
		t.Errorf("claims renders %d placeholders, config allows %d", len(placeholders), len(config.SubjectPlaceholders))
	}
}

// TestPlaceholderValuesFitAlphabets: the template rules assume each placeholder's values come
// from an alphabet (config.SubjectValueAllowed); every value broker renders must.
func TestPlaceholderValuesFitAlphabets(t *testing.T) {
	values := map[string][]string{
		"spaceId":    {"root", "a", "0", "a-b", strings.Repeat("z", 63)},
		"spacePath":  {"root", "root/a", "root/a-b/0"},
		"callerType": {CallerTypeStack},
		"callerId":   {"net", "net-evil", "9", "b-c"},
		"runId":      {ulid.Make().String(), "00000000000000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		"scope":      {string(runs.Read), string(runs.Write)},
	}
	for _, ty := range runs.Types() {
		values["runType"] = append(values["runType"], string(ty))
	}
	for _, p := range runs.AllPhases() {
		values["runPhase"] = append(values["runPhase"], string(p))
	}
	for _, name := range config.SubjectPlaceholders {
		if len(values[name]) == 0 {
			t.Errorf("no sample values for {%s}", name)
		}
		for _, v := range values[name] {
			if !config.SubjectValueAllowed(name, v) {
				t.Errorf("{%s} value %q is outside the alphabet config assumes", name, v)
			}
		}
	}
	for _, bad := range [][2]string{{"callerId", "a:b"}, {"spaceId", "a/b"}, {"runId", "x"}, {"scope", ""}, {"nope", "a"}} {
		if config.SubjectValueAllowed(bad[0], bad[1]) {
			t.Errorf("{%s} value %q accepted", bad[0], bad[1])
		}
	}
}

// TestRenderAllocatesTheSubjectOnce: rendering a `sub` (once per token) makes one string, sized
// before it is written, whatever the template's parts.
// Guards against: subject.go:Render growing its builder part by part
func TestRenderAllocatesTheSubjectOnce(t *testing.T) {
	tmpl, err := ParseTemplate("space:{spaceId}:{callerType}:{callerId}:run_type:{runType}:run_id:{runId}:phase:{runPhase}:scope:{scope}")
	if err != nil {
		t.Fatal(err)
	}
	s := Subject{SpaceID: "team-platform", CallerType: "stack", CallerID: "vpc-production-eu-west-1",
		Run: runs.Run{ID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", RunType: "TRACKED", Phase: "APPLYING", Scope: "write"}}
	want := "space:team-platform:stack:vpc-production-eu-west-1:run_type:TRACKED:run_id:01JD8ZQ6Y3K9V2W4X5T7R8P0MN:phase:APPLYING:scope:write"
	if got := tmpl.Render(s); got != want {
		t.Fatalf("Render = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = tmpl.Render(s) }); n != 1 {
		t.Errorf("Render allocates %v times, want 1", n)
	}
}
