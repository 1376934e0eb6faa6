package aws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestAssumeRoleSessionTagsCarryTheRun: an integration in assume-role mode with session_tags: true
// gives the STS session the run's tags (space, stack, run, scope) as web-identity mode does, sent
// as AssumeRole's Tags, which STS takes only when the role's trust allows sts:TagSession.
// Guards against: sts.go assumeRole sending no Tags whatever session_tags says.
func TestAssumeRoleSessionTagsCarryTheRun(t *testing.T) {
	emu := awsemu.New(awsemu.Config{
		Region:     assumeRegion,
		AccessKeys: map[string]string{brokerKey: brokerSecret},
		Roles: []awsemu.Role{{ARN: assumeWrite, Trust: awsemu.Trust{Principals: []string{brokerKey},
			ExternalID: "broker.example:8443@aws-assume-write@vpc@write", TagSession: true}}},
	})
	mux := http.NewServeMux()
	mux.Handle("/sts/", http.StripPrefix("/sts", emu))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(),
		BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")})
	in := assumeIntegration("aws-assume-write", assumeWrite, srv.URL+"/sts/")
	in.AWS.SessionTags = true
	if _, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Write), Integration: in, Tokens: noTokens{t}}); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	c := emu.Calls()[0]
	if c.Action != "AssumeRole" || c.Outcome != "ok" {
		t.Fatalf("call = %+v", c)
	}
	if c.SessionTags["run"] != runID || c.SessionTags["scope"] != "write" || c.SessionTags["stack"] != stack || c.SessionTags["space"] == "" {
		t.Errorf("assume-role session with session_tags: true got tags %v; want run=%s scope=write stack=%s (web-identity sends them)",
			c.SessionTags, runID, stack)
	}
}
