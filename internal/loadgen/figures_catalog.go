package loadgen

import (
	"context"
	"fmt"

	"github.com/brokerhq/broker/keys"
)

// catalogFigure measures the token rate of a server whose catalog holds CatalogStacks stacks in
// CatalogSpaces spaces (from its configuration file) against one with BaseStacks stacks, both
// running, alternating.
func (s *suite) catalogFigure(ctx context.Context) error {
	f := s.fig("catalog_10k_vs_10")
	base, err := s.startServer(ctx, "catalog-small", ServerConfig{Alg: keys.RS256, Stacks: BaseStacks, Spaces: 1})
	if err != nil {
		return err
	}
	defer base.Stop()
	big, err := s.startServer(ctx, "catalog-large", ServerConfig{Alg: keys.RS256, Stacks: CatalogStacks, Spaces: CatalogSpaces})
	if err != nil {
		return err
	}
	defer big.Stop()
	s.progress("measuring %s (%s on each server)", f.ID, s.cfg.Duration)
	baseLoad, err := s.tokenLoad(ctx, base.Broker, s.cfg.Clients)
	if err != nil {
		return err
	}
	defer baseLoad.Close()
	bigLoad, err := s.tokenLoad(ctx, big.Broker, s.cfg.Clients)
	if err != nil {
		return err
	}
	defer bigLoad.Close()
	got, ref := Interleave(ctx, Alternation{Duration: s.cfg.Duration, Rounds: rounds}, WithCPU(bigLoad.Closed, big.Pid), WithCPU(baseLoad.Closed, base.Pid))
	if err := check("POST /v1/token, large catalog", got); err != nil {
		return err
	}
	if err := check("POST /v1/token, small catalog", ref); err != nil {
		return err
	}
	f.Value, f.Reference = got.Rate(), ref.Rate()
	f.Ratio = f.Value / f.Reference
	f.CPU = cpuCost(got, ref, refOnServer)
	f.Detail = fmt.Sprintf("%d spaces and %d stacks from the configuration file; %d and %d tokens", CatalogSpaces, CatalogStacks, got.Count, ref.Count)
	return nil
}
