package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// publicFigures measures GET of the JWKS and of the discovery document on b against nginx
// serving the same bytes, with the same driver, alternating; both are skipped, visibly, when
// nginx is not installed. Figures already decided (skipped because b is not driven as nginx
// is) are left as they are.
func (s *suite) publicFigures(ctx context.Context, b Broker) {
	jwks, disc := s.fig("jwks_vs_nginx"), s.fig("discovery_vs_nginx")
	if jwks.Status != "" && disc.Status != "" {
		return
	}
	docs, err := b.Public(ctx)
	if err != nil {
		jwks.Fail(err)
		disc.Fail(err)
		return
	}
	jwksPath, discPath := pathOf(docs.JWKSURL), pathOf(docs.DiscoveryURL)
	s.progress("starting nginx with the server's JWKS and discovery document")
	// Not under the run's directory: nginx's workers may run as another user, who must reach
	// the (public) documents.
	dir, err := os.MkdirTemp("", "broker-bench-nginx-")
	if err != nil {
		jwks.Fail(err)
		disc.Fail(err)
		return
	}
	defer os.RemoveAll(dir)
	ng, err := StartNginx(ctx, dir, map[string][]byte{jwksPath: docs.JWKS, discPath: docs.Discovery})
	if errors.Is(err, ErrNotInstalled) {
		jwks.Skip("nginx is not installed (PATH or /usr/sbin): install nginx to measure the public documents against it")
		disc.Skip(jwks.Detail)
		s.note("SKIPPED: the public documents against nginx (nginx is not installed)")
		return
	}
	if err != nil {
		jwks.Fail(err)
		disc.Fail(err)
		return
	}
	defer ng.Stop()
	measure(jwks, func() error {
		return s.againstNginx(ctx, jwks, mirroredDoc{brokerURL: docs.JWKSURL, nginxURL: ng.URL + jwksPath, body: docs.JWKS})
	})
	measure(disc, func() error {
		return s.againstNginx(ctx, disc, mirroredDoc{brokerURL: docs.DiscoveryURL, nginxURL: ng.URL + discPath, body: docs.Discovery})
	})
}

// mirroredDoc is one public document as the server under test and nginx both serve it.
type mirroredDoc struct {
	// brokerURL is the document's URL on the server under test.
	brokerURL string
	// nginxURL is the URL of the same bytes on nginx.
	nginxURL string
	// body is the document, the answer both must give.
	body []byte
}

// againstNginx fills f with the closed-loop rate of GET doc.brokerURL against GET
// doc.nginxURL, both answering doc.body.
func (s *suite) againstNginx(ctx context.Context, f *Figure, doc mirroredDoc) error {
	s.progress("measuring %s (%s, and as long for nginx)", f.ID, s.cfg.Duration)
	bl := NewHTTPLoad(s.cfg.Clients, HTTPRequest{Method: http.MethodGet, URL: doc.brokerURL, Check: expectBody(doc.body)})
	defer bl.Close()
	nl := NewHTTPLoad(s.cfg.Clients, HTTPRequest{Method: http.MethodGet, URL: doc.nginxURL, Check: expectBody(doc.body)})
	defer nl.Close()
	if err := check("broker warm-up", bl.Closed(ctx, s.warmup())); err != nil {
		return err
	}
	if err := check("nginx warm-up", nl.Closed(ctx, s.warmup())); err != nil {
		return err
	}
	got, ref := Interleave(ctx, Alternation{Duration: s.cfg.Duration, Rounds: rounds}, bl.Closed, nl.Closed)
	if err := check("broker", got); err != nil {
		return err
	}
	if err := check("nginx", ref); err != nil {
		return err
	}
	f.Value, f.Reference = got.Rate(), ref.Rate()
	f.Ratio = f.Value / f.Reference
	f.Detail = fmt.Sprintf("%d-byte body, %d clients each; broker %d requests, nginx %d (nginx: worker_processes auto, no access log)",
		len(doc.body), s.cfg.Clients, got.Count, ref.Count)
	return nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
