package main

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAuditVerifyStopsOnACyclingNextPage pins that a listing whose pages hold events but
// whose next-page cursors come round again (a, b, a, b, ...) fails with "does not move on"
// after a few pages, as a listing naming the same next page twice must, instead of listing the
// same pages until the command is killed.
func TestAuditVerifyStopsOnACyclingNextPage(t *testing.T) {
	s := newTrailServer(t, 3)
	var pages atomic.Int32
	s.mangle = func(b []byte) []byte {
		n := pages.Add(1)
		// Pages name "a" and "b" in turn; the server serves the first page again for either.
		next := []byte(`"next":"a"`)
		if n%2 == 0 {
			next = []byte(`"next":"b"`)
		}
		return bytes.Replace(b, []byte(`"next":""`), next, 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	vars := map[string]string{"BROKER_URL": s.URL, "BROKER_API_KEY": "k"}
	err := runAudit(ctx, env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, []string{"verify"})
	if err == nil || !strings.Contains(err.Error(), "does not move on") || pages.Load() > 10 {
		t.Errorf("verify = %v after %d pages; want %q within a few pages", err, pages.Load(), "does not move on")
	}
}

// TestAuditVerifyStopsOnAnEmptyPageWithANewNextPage pins that a page holding no events but
// naming a next page fails at once with "does not move on", even when every page names a new
// next page (so the cursor never repeats), instead of listing empty pages forever.
// Guards against: audit.go:listTrail `len(events) == 0 || page.Next == after` -> `page.Next == after`
func TestAuditVerifyStopsOnAnEmptyPageWithANewNextPage(t *testing.T) {
	s := newTrailServer(t, 3)
	var pages atomic.Int32
	s.mangle = func([]byte) []byte {
		n := pages.Add(1)
		return []byte(`{"events":[],"next":"p` + strings.Repeat("x", int(n%50)) + `"}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	vars := map[string]string{"BROKER_URL": s.URL, "BROKER_API_KEY": "k"}
	err := runAudit(ctx, env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, []string{"verify"})
	if err == nil || !strings.Contains(err.Error(), "does not move on") || pages.Load() > 1 {
		t.Errorf("verify = %v after %d pages; want %q at the first page", err, pages.Load(), "does not move on")
	}
}
