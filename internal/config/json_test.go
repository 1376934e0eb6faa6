package config

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeJSON(t *testing.T) {
	var in Integration
	body := `{"id":"x","space":"prod","aws":{"mode":"web-identity","roleArn":"arn:aws:iam::123456789012:role/r","sessionTags":true},
		"duration":"15m","autoattach":[{"label":"team","read":true}]}`
	if err := DecodeJSON([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	want := Integration{ID: "x", Space: "prod", Duration: 15 * time.Minute,
		AWS:        &AWS{Mode: "web-identity", RoleARN: "arn:aws:iam::123456789012:role/r", SessionTags: true},
		Autoattach: []Autoattach{{Label: "team", Read: true}}}
	if !equal(in, want) {
		t.Errorf("decoded %+v, want %+v", in, want)
	}
}

func TestDecodeJSONRefuses(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"snake case", `{"subject_template":"x"}`, `subject_template: unknown key`},
		{"case variant", `{"parent":"root","PARENT":"prod"}`, `PARENT: unknown key`},
		{"duplicate", `{"parent":"root","parent":"prod"}`, `parent: duplicate key`},
		{"nested unknown", `{"labels":["a"],"x":{}}`, `x: unknown key`},
		{"wrong type", `{"inherit":"yes"}`, `inherit: expected true or false`},
		{"bad duration", `{"duration":"soon"}`, `invalid duration "soon"`},
		// A JSON number or boolean is not a string: not "5", as a YAML file's unquoted 5 would be.
		{"number for a string", `{"parent":5}`, `parent: expected a string, got "5"`},
		{"boolean for a string", `{"subjectTemplate":true}`, `subjectTemplate: expected a string, got "true"`},
		{"number in a list of strings", `{"labels":["a",123]}`, `labels[1]: expected a string, got "123"`},
		{"not json", `{parent: root}`, `not valid JSON`},
		{"not an object", `["a"]`, `must be a JSON object`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst struct {
				Parent          string        `yaml:"parent"`
				Inherit         bool          `yaml:"inherit"`
				SubjectTemplate string        `yaml:"subject_template"`
				Labels          []string      `yaml:"labels"`
				Duration        time.Duration `yaml:"duration"`
			}
			err := DecodeJSON([]byte(tc.body), &dst)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeJSON(%s) = %v, want an error containing %q", tc.body, err, tc.want)
			}
			// A JSON body's keys carry no lines: no message points at one.
			if err != nil && strings.Contains(err.Error(), "line") {
				t.Errorf("DecodeJSON(%s) = %v, naming a line of a JSON body", tc.body, err)
			}
		})
	}
}

func TestEncodeJSONRoundTrip(t *testing.T) {
	in := Integration{ID: "x", Space: "prod", Duration: time.Hour, Timeout: 10 * time.Second,
		GCP: &GCP{WorkloadIdentityProvider: "projects/1/locations/global/workloadIdentityPools/pool/providers/prov",
			ServiceAccount: "a@b.iam.gserviceaccount.com", Scopes: []string{"s"}},
		Autoattach: []Autoattach{{Label: "l", Write: true}}}
	out, err := EncodeJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"workloadIdentityProvider":`, `"duration":"1h0m0s"`, `"autoattach":[{"label":"l","read":false,"write":true}]`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s lacks %s", out, want)
		}
	}
	if strings.Contains(string(out), `"aws"`) {
		t.Errorf("%s shows an unset block", out)
	}
	var back Integration
	if err := DecodeJSON(out, &back); err != nil {
		t.Fatal(err)
	}
	if !equal(back, in) {
		t.Errorf("round trip gave %+v, want %+v", back, in)
	}
}

// Bodies are read as JSON reads them, whatever escapes a client's encoder writes: \/ (which
// many encoders write for every '/'), a surrogate pair, a raw DEL, a raw U+0085 kept as it is.
func TestDecodeJSONTakesEveryJSONEscape(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"id":"x","space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role\/platform"}}`, "arn:aws:iam::123456789012:role/platform"},
		{`{"id":"x","space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/p\ud83d\ude00"}}`, "arn:aws:iam::123456789012:role/p\U0001F600"},
		{"{\"id\":\"x\",\"space\":\"prod\",\"aws\":{\"roleArn\":\"a\x7fb\"}}", "a\x7fb"},
		{"{\"id\":\"x\",\"space\":\"prod\",\"aws\":{\"roleArn\":\"a\u0085b\"}}", "a\u0085b"},
	} {
		var in Integration
		if err := DecodeJSON([]byte(tc.body), &in); err != nil {
			t.Errorf("DecodeJSON(%s): %v", tc.body, err)
			continue
		}
		if in.AWS == nil || in.AWS.RoleARN != tc.want {
			t.Errorf("DecodeJSON(%s): roleArn %+v, want %q", tc.body, in.AWS, tc.want)
		}
	}
	var in Integration
	if err := DecodeJSON([]byte(`{"id":"x","id":"y"}`), &in); err == nil || !strings.Contains(err.Error(), "id") {
		t.Errorf("a duplicate key: %v, want it refused", err)
	}
	// A body that is not UTF-8 is not JSON: refused, never stored with its bytes replaced.
	if err := DecodeJSON([]byte("{\"id\":\"x\",\"space\":\"prod\",\"aws\":{\"roleArn\":\"a\xffb\"}}"), &in); err == nil {
		t.Errorf("a body with an invalid UTF-8 byte was taken: roleArn %+v", in.AWS)
	}
}

// TestEncodeJSONFields: an API answer names every field of the object's body, empty strings
// and lists too, but not a provider block the object does not use nor a default duration, and
// nested objects keep EncodeJSON's rule.
func TestEncodeJSONFields(t *testing.T) {
	for _, tc := range []struct {
		obj  any
		want string
	}{
		{Stack{ID: "s", Space: "p"}, `{"id":"s","space":"p","labels":[]}`},
		{&Space{ID: "x", Parent: "root"}, `{"id":"x","parent":"root","inherit":false,"subjectTemplate":"","labels":[]}`},
		{Integration{ID: "i", Space: "p", AWS: &AWS{RoleARN: "arn"}},
			`{"id":"i","space":"p","aws":{"roleArn":"arn","sessionTags":false},"audience":"","autoattach":[]}`},
	} {
		got, err := EncodeJSONFields(tc.obj)
		if err != nil || string(got) != tc.want {
			t.Errorf("EncodeJSONFields(%+v) = %s, %v; want %s", tc.obj, got, err, tc.want)
		}
	}
}

// TestDecodeJSONNullIsAbsent: in an API body, JSON's null for a block (a client's pointer field
// without omitempty) is the block left out, unlike an empty block of the file: an integration
// naming the providers it does not use as null has one provider.
func TestDecodeJSONNullIsAbsent(t *testing.T) {
	var in Integration
	body := `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"},"gcp":null,"azure":null,"vault":null}`
	if err := DecodeJSON([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in.AWS == nil || in.GCP != nil || in.Azure != nil || in.Vault != nil {
		t.Errorf("decoded providers aws %v gcp %v azure %v vault %v; want aws alone", in.AWS, in.GCP, in.Azure, in.Vault)
	}
}
