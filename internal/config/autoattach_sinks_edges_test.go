package config

import (
	"strings"
	"testing"
)

// TestAutoattachConflictMarkedOnce checks that two integrations of one provider whose
// autoattach rules give a stack two read attachments are one problem, marked Conflict (the
// API's 409, not a 400), even when the stack repeats the label.
// Guards against: Conflict not set on the autoattach clash in
// validate_autoattach.go:checkAutoattach
// Guards against: labelIndex listing a stack once per repeat of a label
func TestAutoattachConflictMarkedOnce(t *testing.T) {
	const objs = "integrations:\n" +
		"  - id: a1\n    space: root\n" +
		"    aws: {role_arn: \"arn:aws:iam::123456789012:role/a1\"}\n" +
		"    autoattach: [{label: team, read: true}]\n" +
		"  - id: a2\n    space: root\n" +
		"    aws: {role_arn: \"arn:aws:iam::123456789012:role/a2\"}\n" +
		"    autoattach: [{label: team, read: true}]\n"
	for _, labels := range []string{"[team]", "[team, team]"} {
		stacks := "stacks: [{id: s, space: root, labels: " + labels + "}]\n"
		err := parseText(edgeIssuer + stacks + objs)
		const path = "integrations[1].autoattach[0]"
		if n := problemsAt(err, path); n != 1 {
			t.Errorf("labels %s: %d problems at %s, want 1: %v", labels, n, path, err)
		}
		if fe := problemAt(err, path); fe != nil && (!fe.Conflict || fe.Missing) {
			t.Errorf("labels %s: Conflict %v, Missing %v; want a conflict",
				labels, fe.Conflict, fe.Missing)
		}
	}
}

// TestAutoattachConflictNamesFirstHolder checks that a clash names the attachment that
// first took the stack's slot: an integration attached directly keeps its slot as "direct"
// when its own autoattach rule reaches the stack too, so a third one clashing is told of the
// direct attachment.
// Guards against: checkAutoattach overwriting a held slot with the same integration's later source
func TestAutoattachConflictNamesFirstHolder(t *testing.T) {
	const doc = "stacks: [{id: s, space: root, labels: [team]}]\nintegrations:\n" +
		"  - id: a1\n    space: root\n" +
		"    aws: {role_arn: \"arn:aws:iam::123456789012:role/a1\"}\n" +
		"    autoattach: [{label: team, read: true}]\n" +
		"  - id: a2\n    space: root\n" +
		"    aws: {role_arn: \"arn:aws:iam::123456789012:role/a2\"}\n" +
		"    autoattach: [{label: team, read: true}]\n" +
		"attachments: [{stack: s, integration: a1, read: true}]\n"
	fe := problemAt(parseText(edgeIssuer+doc), "integrations[1].autoattach[0]")
	const want = `integration "a1" (direct) and integration "a2" (autoattach:team)`
	if fe == nil || !strings.Contains(fe.Msg, want) {
		t.Fatalf("clash: got %v, want a message naming %s", fe, want)
	}
}

// TestSinkKindNeedsExactlyOne checks that a sink's Kind, and so its derived name, is
// empty unless exactly one of webhook and file is set: a sink setting both is neither, and
// takes no name (nor a cursor) from one of its targets.
// Guards against: Kind taking a sink with a webhook for a webhook sink whatever else it sets
// Guards against: Kind taking a sink with a file for a file sink whatever else it sets
func TestSinkKindNeedsExactlyOne(t *testing.T) {
	hook := &WebhookSink{URL: "https://siem.example.com/in"}
	file := &FileSink{Path: "/var/log/broker/audit.jsonl"}
	for _, tc := range []struct {
		name string
		sink AuditSink
		kind string
	}{
		{"both", AuditSink{Webhook: hook, File: file}, ""},
		{"neither", AuditSink{}, ""},
		{"webhook", AuditSink{Webhook: hook}, SinkKindWebhook},
		{"file", AuditSink{File: file}, SinkKindFile},
	} {
		if got := tc.sink.Kind(); got != tc.kind {
			t.Errorf("%s: Kind = %q, want %q", tc.name, got, tc.kind)
		}
		if tc.kind == "" && tc.sink.SinkName() != "" {
			t.Errorf("%s: SinkName = %q, want empty", tc.name, tc.sink.SinkName())
		}
	}
}
