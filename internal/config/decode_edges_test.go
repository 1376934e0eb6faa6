package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadCountReportedOnce checks that a count whose 0 stands for its default, written
// with a value that is no integer, gets one problem (the type), not also "must be at least 1"
// for the zero it was left at.
// Guards against: refuseWrittenZero not skipping a path already marked bad in decode.go
func TestBadCountReportedOnce(t *testing.T) {
	for _, tc := range []struct{ yaml, path string }{
		{"audit: {sinks: [{file: {path: /a.jsonl}, max_batch: many}]}\n",
			"audit.sinks[0].max_batch"},
		{"limits: {auth_failures: many}\n", "limits.auth_failures"},
	} {
		err := parseText(edgeIssuer + tc.yaml)
		if n := problemsAt(err, tc.path); n != 1 {
			t.Errorf("%s: %d problems at %s, want 1: %v", tc.yaml, n, tc.path, err)
		}
	}
}

// TestMergeKeyRefusedClearly checks that a YAML merge key (<<) is refused with a message
// saying merge keys are not supported, rather than taken for an unknown key.
// Guards against: the merge key check dropped from decode.go:mapping
func TestMergeKeyRefusedClearly(t *testing.T) {
	doc := edgeIssuer + "limits: &l {auth_failures: 5}\ntokens:\n  <<: *l\n"
	fe := problemAt(parseText(doc), "tokens.<<")
	if fe == nil || !strings.Contains(fe.Msg, "merge keys (<<) are not supported") {
		t.Fatalf("merge key: got %v, want a problem at tokens.<< saying they are not supported", fe)
	}
}

// TestIntegerFieldRefusesFloats checks that a count written as a float (10.5, 1e3) is
// refused as not an integer, not cut or converted to one.
// Guards against: the !!int tag check dropped from the integer case of decode.go:decode
func TestIntegerFieldRefusesFloats(t *testing.T) {
	for _, tc := range []struct{ yaml, path string }{
		{"audit: {sinks: [{file: {path: /a.jsonl}, max_batch: 10.5}]}\n",
			"audit.sinks[0].max_batch"},
		{"audit: {memory: {retain: 1e3}}\n", "audit.memory.retain"},
	} {
		fe := problemAt(parseText(edgeIssuer+tc.yaml), tc.path)
		if fe == nil || !strings.Contains(fe.Msg, "expected an integer") {
			t.Errorf("%s: got %v, want %s refused as not an integer", tc.yaml, fe, tc.path)
		}
	}
}

// TestTooLargeDocumentNotValidated checks that a document cut short as too large is
// refused with that problem and its decoding problems only: what was read of it is not
// validated, as the stacks left unread would each be reported as missing their id.
// Guards against: the early return on tooLarge dropped from decode.go:Parse
func TestTooLargeDocumentNotValidated(t *testing.T) {
	var es Errors
	if err := parseText(aliasedStacks(990, 1000, "b")); !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	if len(es) != 1 || !strings.Contains(es[0].Msg, "document too large") {
		t.Errorf("got %d problems, want only the document too large: %.500s", len(es), es.Error())
	}
}

// TestLoadFollowsAChainOfLinks checks that Load reads a file reached through several
// symbolic links in a row (as many as the kernel follows, 40), all in private directories.
// Guards against: a lower bound on the links checkReplaceable follows in decode.go
func TestLoadFollowsAChainOfLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "broker.yaml")
	if err := os.WriteFile(target, []byte(edgeIssuer), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		link := filepath.Join(dir, "link"+itoa(i)+".yaml")
		if err := os.Symlink(filepath.Base(target), link); err != nil {
			t.Fatal(err)
		}
		target = link
	}
	if _, err := Load(target); err != nil {
		t.Fatalf("Load through 10 links: %v", err)
	}
}

// TestURLParseErrorNamesItsCause checks that a URL that does not parse is refused with the
// cause alone after the quoted URL, not with Go's wrapping that quotes the URL a second time.
// Guards against: unwrapURLError returning the *url.Error itself
func TestURLParseErrorNamesItsCause(t *testing.T) {
	const issuer = "https://broker.example.com/%zz"
	fe := problemAt(parseText("issuer: \""+issuer+"\"\n"), "issuer")
	if fe == nil || !strings.Contains(fe.Msg, `invalid URL escape "%zz"`) {
		t.Fatalf("issuer %s: got %v, want a problem naming the bad escape", issuer, fe)
	}
	if strings.Count(fe.Msg, issuer) != 1 {
		t.Errorf("issuer %s: message %q quotes the URL more than once", issuer, fe.Msg)
	}
}
