package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/issuer"
)

// Pinger reports whether a dependency is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// HealthConfig configures the health endpoints.
type HealthConfig struct {
	Store Pinger
	// KeyService, when set, is the service that makes every signature (Vault's Transit
	// engine), pinged like the store: without it the replica holds its keys' public halves and
	// cannot sign.
	KeyService Pinger
	Keys       issuer.KeySource
	Logger     *slog.Logger
	// Timeout bounds the readiness probe's store ping.
	Timeout time.Duration
	// KeysStaleAfter is how long the key set may go without a successful refresh before the
	// replica is not ready: past it, the JWKS it serves may lack a key the other replicas sign
	// with. Zero never counts the keys stale.
	KeysStaleAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Health serves /healthz (the process is alive) and /readyz (store and key service reachable, a
// key active).
type Health struct {
	cfg   HealthConfig
	pings *sharedCheck
}

// NewHealth returns the health endpoints.
func NewHealth(cfg HealthConfig) *Health {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Health{cfg: cfg}
	h.pings = &sharedCheck{run: h.ping, timeout: cfg.Timeout}
	return h
}

// HealthPaths are the paths Health serves, which load balancers and orchestrators ask for
// over connections they keep open.
var HealthPaths = []string{healthzPath, readyzPath}

const (
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// Mount registers /healthz and /readyz.
func (h *Health) Mount(rt *Router) {
	rt.HandleFunc("GET "+healthzPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	rt.HandleFunc("GET "+readyzPath, h.ready)
}

func (h *Health) ready(w http.ResponseWriter, r *http.Request) {
	if err := h.pings.result(r.Context()); err != nil {
		apierror.Write(w, err)
		return
	}
	snap := h.cfg.Keys.Snapshot()
	if snap == nil || snap.Signing.Signer == nil {
		apierror.Write(w, apierror.New(apierror.CodeUnavailable, "No signing key is active."))
		return
	}
	if age := h.cfg.Now().Sub(snap.At); h.cfg.KeysStaleAfter > 0 && age > h.cfg.KeysStaleAfter {
		h.cfg.Logger.WarnContext(r.Context(), "readiness: the signing keys have not been refreshed", "since", snap.At)
		apierror.Write(w, apierror.New(apierror.CodeUnavailable, "The signing keys have not been refreshed for %s.", age.Round(time.Second)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// ping pings the store and the key service, nil when both answer; a probe's check runs it once
// for every probe waiting on it.
func (h *Health) ping(ctx context.Context) *apierror.Error {
	if err := h.cfg.Store.Ping(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "readiness: store unreachable", "err", err)
		return apierror.New(apierror.CodeUnavailable, "The state store is unreachable.")
	}
	if h.cfg.KeyService != nil {
		if err := h.cfg.KeyService.Ping(ctx); err != nil {
			h.cfg.Logger.WarnContext(ctx, "readiness: signing key service unreachable", "err", err)
			return apierror.New(apierror.CodeUnavailable, "The signing key service is unreachable.")
		}
	}
	return nil
}
