package awsemu

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

const (
	msgPolicyNotJSON = "The policy is not in the valid JSON format."
	msgPolicySyntax  = "Syntax errors in policy."
	msgDuplicateTags = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
)

// sessionPolicyCases are session policies and STS's answer to each: "" takes the policy,
// otherwise the MalformedPolicyDocument message it is refused with.
var sessionPolicyCases = []struct {
	name, policy, message string
}{
	{name: "statement list", policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`},
	{name: "statement object", policy: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
	{name: "trailing whitespace", policy: "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}\n \t"},
	{name: "plain text", policy: "this is not a policy", message: msgPolicyNotJSON},
	{name: "truncated object", policy: `{"Statement":[{"Effect":"Allow"}`, message: msgPolicyNotJSON},
	{name: "JSON string", policy: `"Statement"`, message: msgPolicyNotJSON},
	{name: "JSON array", policy: `[{"Statement":{"Effect":"Allow"}}]`, message: msgPolicyNotJSON},
	{name: "JSON null", policy: `null`, message: msgPolicyNotJSON},
	{name: "second object after the policy", policy: `{"Statement":{"Effect":"Allow"}} {"Statement":{"Effect":"Deny"}}`, message: msgPolicyNotJSON},
	{name: "text after the policy", policy: `{"Statement":{"Effect":"Allow"}}garbage`, message: msgPolicyNotJSON},
	{name: "no Statement", policy: `{"Version":"2012-10-17"}`, message: msgPolicySyntax},
	{name: "empty object", policy: `{}`, message: msgPolicySyntax},
	{name: "empty Statement list", policy: `{"Statement":[]}`, message: msgPolicySyntax},
	{name: "Statement string", policy: `{"Statement":"Allow"}`, message: msgPolicySyntax},
	{name: "Statement null", policy: `{"Statement":null}`, message: msgPolicySyntax},
	{name: "Statement list of a string", policy: `{"Statement":["Allow"]}`, message: msgPolicySyntax},
	{name: "Statement list with null", policy: `{"Statement":[{"Effect":"Allow"},null]}`, message: msgPolicySyntax},
}

// TestWebIdentitySessionPolicy: AssumeRoleWithWebIdentity takes a Policy only when it is one
// JSON object holding a Statement, else 400 MalformedPolicyDocument (a Sender fault).
func TestWebIdentitySessionPolicy(t *testing.T) {
	f := newFixture(t)
	for _, tc := range sessionPolicyCases {
		t.Run(tc.name, func(t *testing.T) {
			params := webIdentity(f.token(t, nil))
			params.Set("Policy", tc.policy)
			status, body := f.post(t, params)
			checkPolicyAnswer(t, f, tc.message, status, body)
		})
	}
}

// TestAssumeRoleSessionPolicy: AssumeRole takes a Policy only when it is one JSON object
// holding a Statement, else 400 MalformedPolicyDocument (a Sender fault).
func TestAssumeRoleSessionPolicy(t *testing.T) {
	f := newFixture(t)
	for _, tc := range sessionPolicyCases {
		t.Run(tc.name, func(t *testing.T) {
			params := assumeParams(externalID)
			params.Set("Policy", tc.policy)
			status, body := f.send(t, signed{params: params})
			checkPolicyAnswer(t, f, tc.message, status, body)
		})
	}
}

// checkPolicyAnswer checks an answer to a request carrying a session policy: 200 when message
// is "", else 400 MalformedPolicyDocument with message.
func checkPolicyAnswer(t *testing.T, f *fixture, message string, status int, body []byte) {
	t.Helper()
	if message == "" {
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", status, body)
		}
		return
	}
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400 MalformedPolicyDocument", status)
	}
	e := decodeError(t, body)
	if e.Error.Type != "Sender" || e.Error.Code != "MalformedPolicyDocument" || e.Error.Message != message {
		t.Errorf("error %+v, want Sender MalformedPolicyDocument %q", e.Error, message)
	}
	if call := lastCall(t, f.emu); call.Outcome != "MalformedPolicyDocument" {
		t.Errorf("outcome %q, want MalformedPolicyDocument", call.Outcome)
	}
}

// TestAssumeRoleDuplicateTagKeys: AssumeRole's session tag keys are case-insensitive; two keys
// equal but for case are 400 InvalidParameterValue.
func TestAssumeRoleDuplicateTagKeys(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		kv   []string
		dup  bool
	}{
		{name: "distinct keys", kv: []string{"stack", "vpc", "scope", "read"}},
		{name: "keys differing in case", kv: []string{"stack", "vpc", "Stack", "db"}, dup: true},
		{name: "keys differing in case, same value", kv: []string{"Stack", "vpc", "STACK", "vpc"}, dup: true},
		{name: "same key twice", kv: []string{"stack", "vpc", "scope", "read", "stack", "db"}, dup: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.send(t, signed{params: withTags(assumeParams(externalID), tc.kv...)})
			if !tc.dup {
				if status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", status, body)
				}
				if got := lastCall(t, f.emu).SessionTags; len(got) != len(tc.kv)/2 {
					t.Errorf("session tags %v, want %d", got, len(tc.kv)/2)
				}
				return
			}
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 InvalidParameterValue", status)
			}
			e := decodeError(t, body)
			if e.Error.Type != "Sender" || e.Error.Code != "InvalidParameterValue" || e.Error.Message != msgDuplicateTags {
				t.Errorf("error %+v, want Sender InvalidParameterValue %q", e.Error, msgDuplicateTags)
			}
		})
	}
}

// TestStrictParamsThroughSDK: the AWS SDK sends a session policy and session tags the
// emulator reads, and surfaces its refusals by their typed errors.
func TestStrictParamsThroughSDK(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	for _, p := range []string{policy, "{" + policy} {
		_, err := stsClient(f.srv.URL, nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: awssdk.String(readRole), RoleSessionName: awssdk.String("run-1"),
			WebIdentityToken: awssdk.String(f.token(t, nil)), Policy: awssdk.String(p),
		})
		if p == policy {
			if err != nil {
				t.Errorf("AssumeRoleWithWebIdentity with a valid policy: %v", err)
			}
			continue
		}
		assertAPIError(t, err, http.StatusBadRequest, "MalformedPolicyDocument")
		var malformed *types.MalformedPolicyDocumentException
		if !errors.As(err, &malformed) {
			t.Errorf("error %T is not a MalformedPolicyDocumentException", err)
		}
	}
	client := stsClient(f.srv.URL, staticCreds(accessKey, secretKey, ""))
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: awssdk.String(assumeTarget), RoleSessionName: awssdk.String("run-1"), ExternalId: awssdk.String(externalID),
		Policy: awssdk.String(policy),
		Tags:   []types.Tag{{Key: awssdk.String("stack"), Value: awssdk.String("vpc")}, {Key: awssdk.String("scope"), Value: awssdk.String("read")}},
	})
	if err != nil {
		t.Errorf("AssumeRole with a valid policy and distinct tags: %v", err)
	}
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: awssdk.String(assumeTarget), RoleSessionName: awssdk.String("run-1"), ExternalId: awssdk.String(externalID),
		Tags: []types.Tag{{Key: awssdk.String("stack"), Value: awssdk.String("vpc")}, {Key: awssdk.String("STACK"), Value: awssdk.String("db")}},
	})
	assertAPIError(t, err, http.StatusBadRequest, "InvalidParameterValue")
	if !strings.Contains(err.Error(), msgDuplicateTags) {
		t.Errorf("error %v, want %q", err, msgDuplicateTags)
	}
}

// TestSessionPolicyCharacterSet: a session policy holds tab, line feed, carriage return and
// U+0020 to U+00FF only; any other character is 400 ValidationError, on both actions.
func TestSessionPolicyCharacterSet(t *testing.T) {
	f := newFixture(t)
	policy := func(team string) string {
		return "{\"Version\":\"2012-10-17\",\t\r\n" + `"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"` + team + `"}}}]}`
	}
	for _, tc := range []struct {
		name, policy string
		ok           bool
	}{
		{name: "Latin-1, tab, carriage return and line feed", policy: policy("caf\u00e9"), ok: true},
		{name: "the euro sign", policy: policy("euro\u20ac")},
		{name: "a control character", policy: policy("bell\u0007")},
	} {
		for _, action := range []string{"AssumeRoleWithWebIdentity", "AssumeRole"} {
			t.Run(tc.name+" "+action, func(t *testing.T) {
				status, body := f.sendWith(t, action, "Policy", tc.policy)
				if tc.ok {
					if status != http.StatusOK {
						t.Fatalf("status %d, want 200: %s", status, body)
					}
					return
				}
				if e := decodeError(t, body); status != http.StatusBadRequest || e.Error.Code != "ValidationError" ||
					!strings.Contains(e.Error.Message, "at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern") {
					t.Errorf("status %d, error %+v; want 400 ValidationError on the policy's pattern", status, e.Error)
				}
			})
		}
	}
}

// TestAssumeRoleTransitiveTagKeys: AssumeRole's transitive tag keys are recorded when each
// names a session tag (case-insensitively); a key naming none is 400 InvalidParameterValue, and
// more than 50 keys are 400 ValidationError before that.
func TestAssumeRoleTransitiveTagKeys(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		keys []string
		code string
	}{
		{name: "a tag's key", keys: []string{"stack"}},
		{name: "a tag's key in another case", keys: []string{"VPC"}},
		{name: "a key naming no tag", keys: []string{"stack", "team"}, code: "InvalidParameterValue"},
		{name: "an empty key", keys: []string{"stack", ""}, code: "ValidationError"},
		{name: "a key outside the tag pattern", keys: []string{"st#ck"}, code: "ValidationError"},
		{name: "51 keys", keys: slices.Repeat([]string{"stack"}, 51), code: "ValidationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := withTags(assumeParams(externalID), "stack", "vpc", "vpc", "prod")
			for i, k := range tc.keys {
				params.Set("TransitiveTagKeys.member."+strconv.Itoa(i+1), k)
			}
			status, body := f.send(t, signed{params: params})
			if tc.code == "" {
				if status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", status, body)
				}
				if got := lastCall(t, f.emu).TransitiveTagKeys; !slices.Equal(got, tc.keys) {
					t.Errorf("transitive keys %v, want %v", got, tc.keys)
				}
				return
			}
			if e := decodeError(t, body); status != http.StatusBadRequest || e.Error.Code != tc.code {
				t.Errorf("status %d, error %+v; want 400 %s", status, e.Error, tc.code)
			}
		})
	}
}

// TestRoleARNCharacterSet: a RoleArn holding a control character is 400 ValidationError on both
// actions, before any role is looked up; a well-formed ARN of no
// role is 403 AccessDenied.
func TestRoleARNCharacterSet(t *testing.T) {
	f := newFixture(t)
	const unknown = "arn:aws:iam::123456789012:role/nobody"
	for _, tc := range []struct {
		name, arn string
		status    int
		code      string
	}{
		{name: "a control character", arn: unknown + "\x01", status: http.StatusBadRequest, code: "ValidationError"},
		{name: "a role that does not exist", arn: unknown, status: http.StatusForbidden, code: "AccessDenied"},
	} {
		for _, action := range []string{"AssumeRoleWithWebIdentity", "AssumeRole"} {
			t.Run(tc.name+" "+action, func(t *testing.T) {
				status, body := f.sendWith(t, action, "RoleArn", tc.arn)
				if e := decodeError(t, body); status != tc.status || e.Error.Code != tc.code {
					t.Errorf("status %d, error %+v; want %d %s", status, e.Error, tc.status, tc.code)
				}
			})
		}
	}
}

// TestLengthsInCharacters: STS's length limits count characters, not UTF-8 bytes: a policy of
// 2,048 characters holding Latin-1 letters and a tag value of 256 of them are taken, one
// character more is 400 ValidationError.
func TestLengthsInCharacters(t *testing.T) {
	f := newFixture(t)
	policy := func(n int) string {
		head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"`
		tail := `"}}}]}`
		return head + strings.Repeat("\u00e9", n-len(head)-len(tail)) + tail
	}
	for _, tc := range []struct {
		name   string
		params url.Values
		ok     bool
	}{
		{name: "a policy of 2,048 characters", params: func() url.Values { p := assumeParams(externalID); p.Set("Policy", policy(2048)); return p }(), ok: true},
		{name: "a policy of 2,049 characters", params: func() url.Values { p := assumeParams(externalID); p.Set("Policy", policy(2049)); return p }()},
		{name: "a tag value of 256 characters", params: withTags(assumeParams(externalID), "team", strings.Repeat("\u00e9", 256)), ok: true},
		{name: "a tag value of 257 characters", params: withTags(assumeParams(externalID), "team", strings.Repeat("\u00e9", 257))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.send(t, signed{params: tc.params})
			if tc.ok {
				if status != http.StatusOK {
					t.Fatalf("status %d, want 200: %.300s", status, body)
				}
				return
			}
			if e := decodeError(t, body); status != http.StatusBadRequest || e.Error.Code != "ValidationError" {
				t.Errorf("status %d, error %+v; want 400 ValidationError", status, e.Error)
			}
		})
	}
}

// sendWith sends action (AssumeRole, signed, or AssumeRoleWithWebIdentity with a good token)
// with its usual parameters and param set to value.
func (f *fixture) sendWith(t *testing.T, action, param, value string) (int, []byte) {
	t.Helper()
	if action == "AssumeRole" {
		params := assumeParams(externalID)
		params.Set(param, value)
		return f.send(t, signed{params: params})
	}
	params := webIdentity(f.token(t, nil))
	params.Set(param, value)
	return f.post(t, params)
}

// TestQueryTagValueNeedsKey: an AssumeRole tag given a Value but no Key is refused 400
// ValidationError naming the null key, not silently dropped.
func TestQueryTagValueNeedsKey(t *testing.T) {
	f := newFixture(t)
	p := assumeParams(externalID)
	p.Set("Tags.member.1.Value", "v")
	status, body := f.send(t, signed{params: p})
	expectAnswer(t, status, body, http.StatusBadRequest, "ValidationError",
		"Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null")
}
