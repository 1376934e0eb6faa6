package loadgen

import (
	"context"
	"fmt"
)

// catalogFigure returns the step measuring figure id: the token rate of a server signing with
// alg whose catalog holds CatalogStacks stacks in CatalogSpaces spaces (from its configuration
// file) against one with BaseStacks stacks, both running, alternating. At ES256, whose signature
// costs a twentieth of RS256's, what the catalog's size costs a token (the collector marking a
// larger live heap) is a larger share of it.
func (s *suite) catalogFigure(alg, id string) func(context.Context) error {
	return func(ctx context.Context) error { return s.catalogFigureOf(ctx, alg, id) }
}

// catalogFigureOf measures catalogFigure's figure.
func (s *suite) catalogFigureOf(ctx context.Context, alg, id string) error {
	f := s.fig(id)
	base, err := s.startServer(ctx, "catalog-small", ServerConfig{Alg: alg, Stacks: BaseStacks, Spaces: 1})
	if err != nil {
		return err
	}
	defer base.Stop()
	big, err := s.startServer(ctx, "catalog-large", ServerConfig{Alg: alg, Stacks: CatalogStacks, Spaces: CatalogSpaces})
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
	f.Detail = fmt.Sprintf("%s; %d spaces and %d stacks from the configuration file; %d and %d tokens", alg, CatalogSpaces, CatalogStacks, got.Count, ref.Count)
	return nil
}
