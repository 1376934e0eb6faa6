package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// editStoredRun rewrites fields of run id's JSON record in Redis, keeping its expiry: what an
// intruder or a broken tool writing to the store could do.
func editStoredRun(t *testing.T, rdb *redis.Client, id string, fields map[string]any) {
	t.Helper()
	ctx := context.Background()
	key := "broker:run:" + id
	raw, err := rdb.Get(ctx, key).Bytes()
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		rec[k] = v
	}
	edited, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.SetArgs(ctx, key, edited, redis.SetArgs{Mode: "XX", KeepTTL: true}).Err(); err != nil {
		t.Fatalf("SET %s: %v", key, err)
	}
}

// TestEditedRunRecordGetsNothing: a PROPOSED run whose record in Redis is edited to
// "scope": "write" gets neither a token (whose `sub` would say scope:write) nor the write
// integration, although the cloud trusts that `sub`; the refusals are 403 in the envelope and
// in the audit trail. Records edited to an unknown run type or phase are refused the same way.
func TestEditedRunRecordGetsNothing(t *testing.T) {
	rds := redistest.Start(t)
	emu, late := startEmulator(t)
	ts := startServer(t, serverOptions{redisURL: rds.URL(), keyBackend: "redis", extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-read", sts_endpoint: %[1]q}}
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-write", sts_endpoint: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: vpc-prod, integration: aws-write, write: true}
`, emu.URL)})
	// The write role trusts any run type at scope write: the edited record would pass it.
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: "arn:aws:iam::123456789012:role/vpc-read", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:read"}},
		{ARN: "arn:aws:iam::123456789012:role/vpc-write", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:write"}},
	}})
	late.set(sts)

	edits := map[string]map[string]any{
		"PROPOSED stored as write": {"scope": "write"},
		"unknown run type":         {"runType": "ADMIN"},
		"unknown phase, write":     {"phase": "APPLYING", "scope": "write"},
	}
	for name, fields := range edits {
		t.Run(name, func(t *testing.T) {
			run := ts.createRun(t, "vpc-prod", "PROPOSED")
			editStoredRun(t, rds.Client(), run.Run.ID, fields)

			var env envelope
			code := ts.call(t, apiRequest{method: "POST", path: "/v1/token", bearer: run.RunToken, body: map[string]string{"audience": "sts.amazonaws.com"}, out: &env})
			if code != 403 || !strings.Contains(env.Error.Message, "inconsistent") {
				t.Errorf("POST /v1/token: %d %+v, want 403 saying the record is inconsistent", code, env.Error)
			}
			for _, named := range []string{"", "aws-write"} {
				ans, code, env := ts.credentials(t, run.RunToken, "aws", named)
				if code != 403 || ans.Env["AWS_ACCESS_KEY_ID"] != "" {
					t.Errorf("POST /v1/credentials naming %q: %d %+v %+v, want 403", named, code, ans, env.Error)
				}
			}

			var denied []string
			for _, e := range auditEvents(t, ts, "prod", 100) {
				if e.Run == run.Run.ID && e.Outcome == "denied" && strings.Contains(e.Detail, "inconsistent run record") {
					denied = append(denied, e.Action)
				}
				if strings.Contains(e.Detail, run.RunToken) {
					t.Errorf("event %s holds the run token", e.ID)
				}
			}
			if want := "token.issue credentials.issue credentials.issue"; strings.Join(denied, " ") != want {
				t.Errorf("denied events of the run: %v, want %s", denied, want)
			}
		})
	}
	if calls := sts.Calls(); len(calls) != 0 {
		t.Errorf("STS was called for edited records: %+v", calls)
	}
}
