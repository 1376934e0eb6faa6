package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestWriterRecordRoundTrip: a record's text gives back its identity and path, an identity
// holding a line feed included.
func TestWriterRecordRoundTrip(t *testing.T) {
	for _, w := range []writerRecord{
		{Identity: "arn:aws:iam::123456789012:role/w", Path: []string{"root", "prod"}},
		{Identity: "odd\nidentity", Path: []string{"root"}},
		{Identity: "no-path"},
	} {
		got := decodeWriter(w.encode())
		if got.Identity != w.Identity || fmt.Sprint(got.Path) != fmt.Sprint(w.Path) {
			t.Errorf("%q decodes to %q", w.encode(), got)
		}
	}
}

// TestWriterSharesBoundTheRecords: the records of identities attached for write are bounded by
// MaxWriterRecords and each subtree by its WriterShare: a change bringing one more where the share
// is spent is refused with ErrConflict, naming no space to the caller, while one elsewhere is not.
// Guards against: writers.go:checkWriterShares not counting a subtree's records, or the whole
func TestWriterSharesBoundTheRecords(t *testing.T) {
	v := Versioned{From: map[Ref]string{}}
	add := func(n int, path ...string) {
		for i := range n {
			w := writerRecord{Identity: fmt.Sprintf("id-%s-%d", path[len(path)-1], i), Path: path}
			v.From[w.ref()] = w.encode()
		}
	}
	add(WriterShare(2), "root", "prod", "team")
	team := []writerRecord{{Identity: "new", Path: []string{"root", "prod", "team", "app"}}}
	err := checkWriterShares(v, team)
	var ce *ChangeError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) {
		t.Fatalf("one more record in team's spent share: %v, want ErrConflict", err)
	}
	if msg := ce.Error(); msg == "" || strings.Contains(msg, "team") || strings.Contains(msg, "prod") {
		t.Errorf("the caller's message %q names a space", msg)
	}
	if err := checkWriterShares(v, []writerRecord{{Identity: "new", Path: []string{"root", "prod", "other"}}}); err != nil {
		t.Errorf("a record in another subtree of prod (%d of %d): %v", WriterShare(2), WriterShare(1), err)
	}
	add(MaxWriterRecords-WriterShare(2), "root")
	if err := checkWriterShares(v, []writerRecord{{Identity: "new", Path: []string{"root"}}}); !errors.Is(err, ErrConflict) {
		t.Errorf("one record past MaxWriterRecords: %v, want ErrConflict", err)
	}
	if err := checkWriterShares(v, nil); err != nil {
		t.Errorf("a change bringing no record: %v", err)
	}
}
