package aws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/brokerhq/broker/internal/config"
	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

const (
	brokerKey    = "AKIABROKERTEST000001"
	brokerSecret = "brokerSecretKeyForTests/0123456789abcdef0"
	assumeRead   = "arn:aws:iam::" + account + ":role/vpc-assume-read"
	assumeWrite  = "arn:aws:iam::" + account + ":role/vpc-assume-write"
)

// assumeEnv is an emulator whose roles trust broker's access key with per-scope ExternalIds. It
// stands for eu-central-1's regional endpoint, the region assumeIntegration names: requests are
// signed for the integration's region.
func assumeEnv(t *testing.T) (*awsemu.Emulator, string) {
	t.Helper()
	emu := awsemu.New(awsemu.Config{
		Region:     assumeRegion,
		AccessKeys: map[string]string{brokerKey: brokerSecret},
		Roles: []awsemu.Role{
			{ARN: assumeRead, Trust: awsemu.Trust{Principals: []string{brokerKey},
				ExternalID: "broker.example:8443@aws-assume-read@vpc@read"}},
			{ARN: assumeWrite, Trust: awsemu.Trust{Principals: []string{brokerKey},
				ExternalID: "broker.example:8443@aws-assume-write@vpc@write"}},
		},
	})
	// Mounted under a prefix, so the SigV4 canonical URI is the path the SDK signed.
	mux := http.NewServeMux()
	mux.Handle("/sts/", http.StripPrefix("/sts", emu))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return emu, srv.URL + "/sts/"
}

func assumeIntegration(id, roleARN, endpoint string) config.Integration {
	return config.Integration{ID: id, Space: "root",
		AWS: &config.AWS{Mode: config.AWSModeAssumeRole, RoleARN: roleARN, STSEndpoint: endpoint, Region: assumeRegion}}
}

// assumeRegion is the region of assumeEnv's endpoint and assumeIntegration's.
const assumeRegion = "eu-central-1"

// noTokens fails the test if an assume-role exchange mints a broker token.
type noTokens struct{ t *testing.T }

func (n noTokens) Token(context.Context, exchange.TokenRequest) (string, error) {
	n.t.Error("assume-role minted a broker token")
	return "", context.Canceled
}

func TestAssumeRole(t *testing.T) {
	emu, endpoint := assumeEnv(t)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(),
		BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")})
	tests := []struct {
		name       string
		scope      runs.Scope
		in         config.Integration
		externalID string
		code       string // "" for success
	}{
		{"read run, read role", runs.Read, assumeIntegration("aws-assume-read", assumeRead, endpoint),
			"broker.example:8443@aws-assume-read@vpc@read", ""},
		{"write run, write role", runs.Write, assumeIntegration("aws-assume-write", assumeWrite, endpoint),
			"broker.example:8443@aws-assume-write@vpc@write", ""},
		{"read run refused by the write role", runs.Read, assumeIntegration("aws-assume-write", assumeWrite, endpoint),
			"broker.example:8443@aws-assume-write@vpc@read", "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := x.Exchange(context.Background(), exchange.Request{Run: run(tc.scope), Integration: tc.in, Tokens: noTokens{t}})
			calls := emu.Calls()
			c := calls[len(calls)-1]
			if c.Action != "AssumeRole" || c.ExternalID != tc.externalID || c.AccessKey != brokerKey ||
				c.RoleARN != tc.in.AWS.RoleARN || c.SessionName != "broker-"+runID {
				t.Errorf("call = %+v", c)
			}
			if tc.code != "" {
				up := upstream(t, err)
				if up.Status != http.StatusForbidden || up.Code != tc.code ||
					up.Message != "User: "+brokerKey+" is not authorized to perform: sts:AssumeRole on resource: "+tc.in.AWS.RoleARN {
					t.Errorf("error = %+v", up)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := creds.Detail.(Detail)
			if creds.Env["AWS_REGION"] != "eu-central-1" || d.RoleARN != tc.in.AWS.RoleARN || d.AccessKeyID == brokerKey ||
				creds.Env["AWS_ACCESS_KEY_ID"] != d.AccessKeyID || creds.ExpiresAt.IsZero() {
				t.Errorf("credentials = %+v, detail = %+v", creds.Env, d)
			}
		})
	}
}

// TestAssumeRoleDefaultChain leaves BaseCredentials nil: the SDK default chain is loaded on use,
// here from the environment.
func TestAssumeRoleDefaultChain(t *testing.T) {
	brokerKeysInEnvironment(t)
	emu, endpoint := assumeEnv(t)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient()})
	if _, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
		Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}}); err != nil {
		t.Fatal(err)
	}
	if c := emu.Calls()[0]; c.AccessKey != brokerKey || c.Outcome != "ok" {
		t.Errorf("call = %+v", c)
	}
}

func TestAssumeRoleBadCredentials(t *testing.T) {
	emu, endpoint := assumeEnv(t)
	tests := []struct {
		name, akid, secret, code string
	}{
		{"unknown access key", "AKIANOBODY0000000000", brokerSecret, "InvalidClientTokenId"},
		{"wrong secret", brokerKey, "wrongSecretKeyForTests/0123456789abcdef00", "SignatureDoesNotMatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(),
				BaseCredentials: credentials.NewStaticCredentialsProvider(tc.akid, tc.secret, "")})
			_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
				Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}})
			if up := upstream(t, err); up.Status != http.StatusForbidden || up.Code != tc.code {
				t.Errorf("error = %+v", up)
			}
		})
	}
	if got := outcomes(emu); len(got) != 2 {
		t.Errorf("emulator calls = %v, want one each: 403 is never retried", got)
	}
}

func TestAssumeRoleNeedsIssuer(t *testing.T) {
	_, endpoint := assumeEnv(t)
	x := New(Options{BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")})
	_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
		Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}})
	if err == nil {
		t.Fatal("assume-role without an issuer succeeded")
	}
}

// TestAssumeRoleRefusesInconsistentRun: the ExternalId's scope comes from the run type and
// phase, so a PROPOSED record edited to "scope": "write" is not sent as a write ExternalId; it
// is refused before any call.
func TestAssumeRoleRefusesInconsistentRun(t *testing.T) {
	emu, endpoint := assumeEnv(t)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(),
		BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")})
	forged := run(runs.Write)
	forged.RunType, forged.Phase = runs.Proposed, runs.Planning
	_, err := x.Exchange(context.Background(), exchange.Request{Run: forged,
		Integration: assumeIntegration("aws-assume-write", assumeWrite, endpoint), Tokens: noTokens{t}})
	if !errors.Is(err, runs.ErrCorrupt) {
		t.Errorf("error = %v, want ErrCorrupt", err)
	}
	if calls := emu.Calls(); len(calls) != 0 {
		t.Errorf("STS was called for an inconsistent run: %+v", calls)
	}
}

// TestAssumeRoleSignsForThePartitionsRegion: an assume-role integration of a GovCloud role that
// names no region signs its call for us-gov-west-1, the region of GovCloud's STS endpoint,
// which takes no request scoped to another region.
func TestAssumeRoleSignsForThePartitionsRegion(t *testing.T) {
	const govRole = "arn:aws-us-gov:iam::" + account + ":role/vpc-assume-gov"
	emu := awsemu.New(awsemu.Config{
		Region:     "us-gov-west-1",
		AccessKeys: map[string]string{brokerKey: brokerSecret},
		Roles: []awsemu.Role{{ARN: govRole, Trust: awsemu.Trust{Principals: []string{brokerKey},
			ExternalID: "broker.example:8443@aws-gov@vpc@write"}}},
	})
	mux := http.NewServeMux()
	mux.Handle("/sts/", http.StripPrefix("/sts", emu))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(),
		BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")})
	in := config.Integration{ID: "aws-gov", Space: "root",
		AWS: &config.AWS{Mode: config.AWSModeAssumeRole, RoleARN: govRole, STSEndpoint: srv.URL + "/sts/"}}
	creds, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Write), Integration: in, Tokens: noTokens{t}})
	if err != nil {
		t.Fatalf("a GovCloud role without a region: %v", err)
	}
	if d := creds.Detail.(Detail); d.RoleARN != govRole {
		t.Errorf("detail %+v", d)
	}
}
