package config

import (
	"strings"
	"testing"
)

// TestOneDocument: the file holds exactly one YAML document. A second one is refused, naming
// its line, rather than ignored unread; document markers around the one document are fine.
func TestOneDocument(t *testing.T) {
	const iss = "issuer: https://broker.example.com\n"
	for _, tc := range []struct {
		name, yaml string
		want       string // "" when the file is accepted
	}{
		{"one document", iss, ""},
		{"a leading marker", "---\n" + iss, ""},
		{"an end marker", iss + "...\n", ""},
		{"a trailing empty document", iss + "---\n", ""},
		{"a second document", iss + "---\nissuer: http://other.example.com\nbogus_key: 1\n", "t.yaml:2: a second YAML document"},
		{"a second document after a comment", iss + "# more\n---\nspaces: [{id: Bad_Id}]\n", "t.yaml:3: a second YAML document"},
		{"a syntax error in a second document", iss + "---\nissuer: [\n", "invalid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(tc.yaml))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "" && cfg.Issuer != "https://broker.example.com":
				t.Fatalf("issuer = %q", cfg.Issuer)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, issuer in force %q", cfg.Issuer)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			var part struct {
				Issuer string `yaml:"issuer"`
			}
			if err := DecodeYAML("t.yaml", []byte(tc.yaml), &part); (err == nil) != (tc.want == "") {
				t.Fatalf("DecodeYAML: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestLaterDocumentsRefused: every document after the first must be empty up to the end of the
// file; one holding anything, however many empty ones precede it, is refused naming its line,
// by Parse and by DecodeYAML (broker apply -f), rather than silently never read.
func TestLaterDocumentsRefused(t *testing.T) {
	const iss = "issuer: https://broker.example.com\n"
	for _, tc := range []struct {
		name, yaml string
		want       string // "" when the file is accepted
	}{
		{"empty documents after", iss + "---\n---\n# nothing\n--- ~\n", ""},
		{"after an empty second", iss + "---\n---\nroles:\n  - {id: ops, actions: [space:admin]}\n",
			"t.yaml:3: YAML document number 3 starts here"},
		{"after a null second", iss + "--- ~\n---\nbogus_key: 1\n", "t.yaml:3: YAML document number 3"},
		{"after a comment-only second", iss + "---\n# overrides follow\n---\ntokens: {ttl: 5m}\n",
			"t.yaml:4: YAML document number 3"},
		{"fifth", iss + "---\n---\n---\n---\nissuer: https://x.example.com\n", "t.yaml:5: YAML document number 5"},
		{"a syntax error in a later document", iss + "---\n---\nissuer: [\n", "invalid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(tc.yaml))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, roles %v, tokens.ttl %v", cfg.Roles, cfg.Tokens.TTL)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			var part struct {
				Issuer string `yaml:"issuer"`
				Roles  []Role `yaml:"roles"`
				Tokens struct {
					TTL string `yaml:"ttl"`
				} `yaml:"tokens"`
				Bogus int `yaml:"bogus_key"`
			}
			if err := DecodeYAML("t.yaml", []byte(tc.yaml), &part); (err == nil) != (tc.want == "") {
				t.Fatalf("DecodeYAML: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
