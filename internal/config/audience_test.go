package config

import (
	"strings"
	"testing"
)

func TestCheckAudience(t *testing.T) {
	cases := []struct {
		aud, want string // want "" accepts; otherwise a phrase of the error
	}{
		{"sts.amazonaws.com", ""},
		{"api://AzureADTokenExchange", ""},
		{"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov", ""},
		{"https://vault.example.com:8200/v1?x=1#y", ""},
		{"[::1]:8080", ""},
		{"a-._~:/?#[]@!$&'()*+,;=%41", ""},
		{strings.Repeat("a", MaxAudienceLength), ""},
		{"", "must not be empty"},
		{strings.Repeat("a", MaxAudienceLength+1), "longer than 256 bytes"},
		{"sts.amazonaws.com\u202e", `'\u202e' at byte 17`},
		{"a b", `' ' at byte 1`},
		{"a\tb", `'\t' at byte 1`},
		{"a\x00", `'\x00' at byte 1`},
		{"a\x7f", `'\x7f' at byte 1`},
		{"bröker", `'\u00f6' at byte 2`},
		{"a\"b", `'"' at byte 1`},
		{"a<b>", `'<' at byte 1`},
		{"a\\b", `'\\' at byte 1`},
		{"a{b}", `'{' at byte 1`},
		{"a\xff", `'\ufffd' at byte 1`},
	}
	for _, tc := range cases {
		err := CheckAudience(tc.aud)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckAudience(%+q) = %v, want nil", tc.aud, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckAudience(%+q) = %v, want an error with %s", tc.aud, err, tc.want)
		}
	}
}

func TestParseRefusesBadAudiences(t *testing.T) {
	cases := []struct{ name, src, path, want string }{
		{"default audience", iss + "tokens:\n  default_audience: \"aud\\u202e\"\n", "tokens.default_audience", `'\u202e' at byte 3`},
		{"default audience from the issuer's host", "issuer: https://bröker.example.com\n", "tokens.default_audience", "defaults to the issuer's host"},
		{"integration audience", withIntegration("    vault: {address: \"https://v:8200\", role: r}\n    audience: \"vault \"\n"),
			"integrations[0].audience", `' ' at byte 5`},
		{"integration audience too long", withIntegration("    vault: {address: \"https://v:8200\", role: r}\n    audience: " + strings.Repeat("v", 300) + "\n"),
			"integrations[0].audience", "longer than 256 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("Parse() accepted it")
			}
			if !strings.Contains(err.Error(), tc.path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse() = %v, want %s: ...%s", err, tc.path, tc.want)
			}
			if strings.ContainsRune(err.Error(), '\u202e') {
				t.Errorf("the message repeats the raw U+202E: %q", err)
			}
		})
	}
	if _, err := Parse("t.yaml", []byte(withIntegration("    vault: {address: \"https://v:8200\", role: r}\n    audience: api://x\n"))); err != nil {
		t.Errorf("a valid integration audience: %v", err)
	}
}

// TestAudienceErrorSurvivesRedaction: the list of allowed characters an audience error quotes
// is not taken for a login in a URL, which every field error redacts, so a refusal names all
// of them.
func TestAudienceErrorSurvivesRedaction(t *testing.T) {
	err := CheckAudience("x\x00y")
	if err == nil {
		t.Fatal("a NUL accepted")
	}
	if got := RedactLogins(err.Error()); got != err.Error() || strings.Contains(got, "REDACTED") {
		t.Errorf("redacted to %q", got)
	}
	for _, c := range "@-._~!$&'()*+,;=%:/?#[]" {
		if !strings.ContainsRune(err.Error(), c) {
			t.Errorf("the error %q does not name %q", err, c)
		}
	}
}

// TestLongAudienceQuotedInASCII: a refused audience is quoted in its problem's message with
// every non-ASCII character escaped (the %+q the message asks for), however long it is: a long
// one is cut, and its quote still escapes.
func TestLongAudienceQuotedInASCII(t *testing.T) {
	for _, n := range []int{10, 200, 300} {
		aud := "\u00e9\u0430" + strings.Repeat("a", n)
		doc := edgeIssuer + "integrations:\n  - id: it\n    space: root\n" +
			"    vault: {address: \"https://v:8200\", role: r}\n    audience: \"" + aud + "\"\n"
		fe := problemAt(parseText(doc), "integrations[0].audience")
		if fe == nil {
			t.Fatalf("audience of %d bytes accepted", len(aud))
		}
		if !strings.Contains(fe.Msg, `"\u00e9\u0430aaa`) {
			t.Errorf("audience of %d bytes: message does not quote it in ASCII: %s", len(aud), fe.Msg)
		}
	}
}

// TestURLAudienceProblemNamesTheCharacter: the problem of a refused audience written as a URL
// (most audiences are) names the audience, the character refused and its offset; the list of
// allowed characters the message quotes, '@' among them, is not taken for the end of a login
// in that URL and redacted with all before it.
func TestURLAudienceProblemNamesTheCharacter(t *testing.T) {
	for _, c := range []struct{ yaml, path, aud, want string }{
		{"integrations:\n  - id: it\n    space: root\n" +
			"    vault: {address: \"https://v:8200\", role: r}\n" +
			"    audience: \"https://vault.example.com/ x\"\n",
			"integrations[0].audience", `"https://vault.example.com/ x"`, `holds ' ' at byte 26`},
		{"tokens:\n  default_audience: \"api://x\\ty\"\n",
			"tokens.default_audience", `"api://x\ty"`, `holds '\t' at byte 7`},
	} {
		fe := problemAt(parseText(edgeIssuer+c.yaml), c.path)
		if fe == nil {
			t.Errorf("%s: refused audience accepted", c.path)
			continue
		}
		if !strings.Contains(fe.Msg, c.aud) || !strings.Contains(fe.Msg, c.want) {
			t.Errorf("%s: message %q does not quote %s and say %s", c.path, fe.Msg, c.aud, c.want)
		}
	}
}

// TestAWSAudienceFitsAClientID: an AWS web-identity integration's audience is at most the 255
// characters of an IAM OIDC provider's client ID, which STS compares it with; an assume-role
// integration sends no web identity token, and other providers keep the general bound.
func TestAWSAudienceFitsAClientID(t *testing.T) {
	const role = "role_arn: arn:aws:iam::123456789012:role/r"
	for _, c := range []struct {
		name, block string
		n           int
		refused     bool
	}{
		{"aws at 255", "aws: {" + role + "}", 255, false},
		{"aws at 256", "aws: {" + role + "}", 256, true},
		{"aws web-identity at 256", "aws: {mode: web-identity, " + role + "}", 256, true},
		{"aws assume-role at 256", "aws: {mode: assume-role, " + role + "}", 256, false},
		{"vault at 256", "vault: {address: \"https://v:8200\", role: r}", 256, false},
	} {
		doc := edgeIssuer + "integrations:\n  - id: it\n    space: root\n    " + c.block +
			"\n    audience: " + strings.Repeat("a", c.n) + "\n"
		fe := problemAt(parseText(doc), "integrations[0].audience")
		switch {
		case c.refused && (fe == nil || !strings.Contains(fe.Msg, "255 characters")):
			t.Errorf("%s: problem %v, want one naming IAM's 255 characters", c.name, fe)
		case !c.refused && fe != nil:
			t.Errorf("%s: refused: %s", c.name, fe.Msg)
		}
	}
}
