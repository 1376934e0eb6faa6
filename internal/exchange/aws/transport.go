package aws

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxRequestBytes caps an STS request body buffered for replay; real ones are a few KiB.
const maxRequestBytes = 1 << 20

// replayingClient hands the SDK's requests to the shared retrying client with a replayable
// body: the SDK streams its form body without GetBody, which retries need.
type replayingClient struct {
	client *http.Client
}

// Do implements sts.HTTPClient.
func (c replayingClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		data, err := io.ReadAll(io.LimitReader(req.Body, maxRequestBytes+1))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("buffer STS request body: %w", err)
		}
		if len(data) > maxRequestBytes {
			return nil, errors.New("STS request body larger than 1 MiB")
		}
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return c.client.Do(req)
}
