package api

import (
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
)

// A control- or worker-plane body holding bytes that are not UTF-8 is refused as invalid JSON
// (400 invalid_request), as the administration bodies are: JSON is UTF-8, and encoding/json
// would otherwise take each bad byte as U+FFFD, so that POST /v1/runs naming stack
// "vpc-prod\xff" was answered 404 "No stack with id" for a body that is not JSON at all.
func TestBodyNotUTF8IsInvalidRequest(t *testing.T) {
	cases := []struct {
		name, body string
		dst        func() any
	}{
		{"run stack", "{\"stack\":\"vpc-prod\xff\",\"runType\":\"TRACKED\"}", newCreate},
		{"run phase", "{\"stack\":\"a\",\"runType\":\"TRACKED\",\"phase\":\"\xc3\"}", newCreate},
		{"token audience", "{\"audience\": \"sts.amazonaws.com\xfe\"}",
			func() any { return &tokenRequest{} }},
		{"credentials integration", "{\"provider\":\"aws\",\"integration\":\"aws-read\xed\xa0\x80\"}",
			func() any { return &credentialsRequest{} }},
		{"phase", "{\"phase\":\"APPLYING\xff\"}", func() any { return &phaseRequest{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeString(tc.body, tc.dst())
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest {
				t.Errorf("body %q: got %v, want invalid_request (the body is not UTF-8)", tc.body, err)
			}
		})
	}
}
