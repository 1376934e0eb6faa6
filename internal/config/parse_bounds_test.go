package config

import (
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// aliasedStacks is a file whose one space carries a list of labels, anchored, that each of its
// stacks aliases: item is one label as written.
func aliasedStacks(stacks, labels int, item string) string {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nspaces:\n  - id: x\n    parent: root\n    labels: &l [")
	for i := range labels {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(item)
	}
	b.WriteString("]\nstacks:\n")
	for i := range stacks {
		b.WriteString("  - {id: s" + strings.Repeat("x", i%7) + ", space: x, labels: *l}\n")
	}
	return b.String()
}

// TestManyBadPathsRefusedQuickly: a small file whose aliases give tens of thousands of values of
// the wrong type (each a bad path) and as many validation problems is refused at once: a
// validation problem is checked against its own path and parents only, not against every bad
// path. The bound is generous: checking every pair takes minutes.
func TestManyBadPathsRefusedQuickly(t *testing.T) {
	src := aliasedStacks(300, 300, "{}") // 12 KB, 90,000 labels that are mappings
	done := make(chan error, 1)
	go func() {
		_, err := Parse("bomb.yaml", []byte(src))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("accepted")
		}
		if !strings.Contains(err.Error(), "expected a string, got a mapping") {
			t.Errorf("error does not name the labels of the wrong type: %.300s", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Parse of a %d-byte file has not returned after 30 s", len(src))
	}
}

// TestAliasExpansionBounded: aliases may add to a document at most aliasFactor times its own
// nodes (or aliasFloor): a 38 KB file whose aliases repeat a thousand bad labels on a thousand
// stacks is refused as too large, not decoded and validated at the cost of hundreds of MB.
func TestAliasExpansionBounded(t *testing.T) {
	src := aliasedStacks(990, 1000, "B")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse("bomb.yaml", []byte(src))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("accepted")
	}
	if !strings.Contains(err.Error(), "document too large") {
		t.Errorf("error does not say the document is too large: %.300s", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("refusing a %d-byte file allocated %d MB, want at most 64", len(src), alloc>>20)
	}
}

// TestAliasesWithinBoundAccepted: a list of labels shared by a thousand stacks through an
// alias stays well within the bound.
func TestAliasesWithinBoundAccepted(t *testing.T) {
	var labels []string
	for i := range 20 {
		labels = append(labels, "l"+itoa(i))
	}
	src := aliasedStacks(0, 0, "")
	src = strings.Replace(src, "labels: &l []", "labels: &l ["+strings.Join(labels, ",")+"]", 1)
	for i := range 1000 {
		src += "  - {id: s" + itoa(i) + ", space: x, labels: *l}\n"
	}
	cfg, err := Parse("ok.yaml", []byte(src))
	if err != nil {
		t.Fatalf("refused: %.300s", err)
	}
	if len(cfg.Stacks) != 1000 || len(cfg.Stacks[999].Labels) != 20 {
		t.Errorf("decoded %d stacks", len(cfg.Stacks))
	}
}

// TestDecodeProblemsCounted: past maxProblems the decoder only counts its problems, and the
// error says how many were not listed.
func TestDecodeProblemsCounted(t *testing.T) {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\n")
	for i := range 250 {
		b.WriteString("bogus_" + itoa(i) + ": 1\n")
	}
	_, err := Parse("keys.yaml", []byte(b.String()))
	errs, ok := err.(Errors)
	if !ok || len(errs) != maxProblems+1 {
		t.Fatalf("error %T with %d problems, want %d and a count", err, len(errs), maxProblems)
	}
	if !strings.Contains(errs[0].Error(), "keys.yaml:2: bogus_0: unknown key") {
		t.Errorf("first problem %q", errs[0])
	}
	if got := errs[maxProblems].Msg; got != "and 150 more problems not listed" {
		t.Errorf("last problem %q", got)
	}
}

// TestLongValuesCutInProblems: a problem quotes at most maxShown bytes of its value (and names
// at most maxShownPath of its path) and says it was cut, so that one long value aliased a
// hundred times does not make a 10 MB error (90 times here, so that problems below it are listed).
func TestLongValuesCutInProblems(t *testing.T) {
	long := strings.Repeat("A", 100<<10)
	src := "issuer: https://broker.example.com\nspaces:\n  - id: x\n    parent: root\n    labels: [&a " + long +
		strings.Repeat(", *a", 90) + "]\n    inherit: *a\nstacks:\n  - {id: s, space: x, " + strings.Repeat("K", 1000) + ": 1}\n"
	_, err := Parse("long.yaml", []byte(src))
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(err.Error()); n > 64<<10 {
		t.Errorf("a %d-byte file gives a %d-byte error", len(src), n)
	}
	for _, fe := range err.(Errors) {
		if len(fe.Msg) > 2*maxShown+200 || len(fe.Value) > maxShown+40 {
			t.Errorf("problem of %d bytes (value %d): %.200s", len(fe.Msg), len(fe.Value), fe.Msg)
		}
		if strings.Contains(fe.Msg, "AAAA") && !strings.Contains(fe.Msg, "(cut: 102400 bytes in all)") {
			t.Errorf("problem does not say its value was cut: %.300s", fe.Msg)
		}
		if len(fe.Path) > maxShownPath+40 {
			t.Errorf("path of %d bytes: %.300s", len(fe.Path), fe.Path)
		}
	}
	for _, want := range []string{"spaces[0].inherit: expected true or false, got \"AAAA", "stacks[0].KKKK"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q", want)
		}
	}
}

// TestCutValueKeepsLoginRedacted: a login is redacted from a value before it is cut (also where
// a message describes a value of the wrong type), so that a cut through a password cannot leave
// part of it without the '@' that marks it; and from a key path (a URL written as a key).
func TestCutValueKeepsLoginRedacted(t *testing.T) {
	secret := strings.Repeat("s3cr3t", 40)
	const iss = "issuer: https://broker.example.com\n"
	for name, src := range map[string]string{
		"label":        aliasedStacks(0, 1, "https://user:"+secret+"@host.example.com/x"),
		"wrong type":   iss + "spaces:\n  - id: x\n    parent: root\n    inherit: https://ops:" + secret + "@host\n",
		"duration":     iss + "tokens:\n  ttl: https://ops:" + secret + "@host\n",
		"key":          iss + "store:\n  redis:\n    \"redis://:" + secret + "@redis.example.com:6379\": 1\n",
		"quote":        iss + "tokens:\n  ttl: \"https://ops:Zq9'" + secret + "@host\"\n",
		"double quote": iss + "tokens:\n  ttl: 'https://ops:Zq9\"" + secret + "@host'\n",
		"space":        iss + "tokens:\n  ttl: \"https://ops:Zq9 " + secret + "@host\"\n",
		"multi-byte":   aliasedStacks(0, 1, strings.Repeat("é", 200)),
		"short value":  aliasedStacks(0, 1, "Bad_Label"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(src))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error repeats part of the password: %s", err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Errorf("a cut split a character: %q", err)
			}
		})
	}
}

// TestCutText: cutText keeps a short text and cuts a long one on a character boundary, saying
// how long it was.
func TestCutText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		most int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc... (cut: 4 bytes in all)"},
		{"aéb", 2, "a... (cut: 4 bytes in all)"},
		{"", 0, ""},
	} {
		if got := cutText(tc.in, tc.most); got != tc.want {
			t.Errorf("cutText(%q, %d) = %q, want %q", tc.in, tc.most, got, tc.want)
		}
	}
}
