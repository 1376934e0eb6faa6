package api

import (
	"testing"
)

// TestEscapedQuotesInStringsAreAccepted pins that the key check follows escapes inside
// strings: a body whose values or map keys hold an escaped quote or backslash is accepted and
// decoded, not refused as unreadable.
// Guards against: strictkeys.go:keyScanner.str skip of the escaped character dropped
func TestEscapedQuotesInStringsAreAccepted(t *testing.T) {
	var run createRunRequest
	if err := decodeString(`{"stack":"vpc\"prod","runType":"TRACKED"}`, &run); err != nil || run.Stack != `vpc"prod` {
		t.Errorf("a stack id holding an escaped quote: %v, stack %q", err, run.Stack)
	}
	var nested nestedBody
	if err := decodeString(`{"labels":{"a\"b":"c\\"},"name":"x"}`, &nested); err != nil || nested.Labels[`a"b`] != `c\` {
		t.Errorf("a map key and value holding escapes: %v, labels %q", err, nested.Labels)
	}
}
