package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/brokerhq/broker/internal/config"
)

// liveConfig builds, from a running broker, what broker trust needs to render a stack's trust
// configuration: the issuer its discovery names, every space (their subject templates decide
// the subjects and whether they could collide), the stack, every integration (with its
// autoattach rules) and the stack's direct attachments. It is checked with the file's rules.
// The API key must see every space, which only a binding on root gives: a partial tree could
// hide the template that makes a subject collide.
func liveConfig(ctx context.Context, e env, stack string) (*config.Config, error) {
	c, err := newAdminClient(e)
	if err != nil {
		return nil, err
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if err := getJSON(ctx, c.http, jsonRequest{url: c.baseURL + "/.well-known/openid-configuration"}, &disc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if disc.Issuer == "" {
		return nil, errors.New("the broker's discovery names no issuer")
	}
	cfg := &config.Config{Issuer: disc.Issuer, Source: c.baseURL}
	if cfg.Spaces, err = listServed[config.Space](ctx, c, kindSpace.path, kindSpace.list); err != nil {
		return nil, err
	}
	if _, ok := cfg.Space(config.RootSpace); !ok {
		return nil, errors.New("BROKER_API_KEY does not see every space; broker trust needs a key bound on root (any role) to check that no other space's subjects collide")
	}
	raw, err := c.getField(ctx, kindStack.path+"/"+url.PathEscape(stack), kindStack.one)
	if isNotFound(err) {
		return nil, fmt.Errorf("no stack %q on the broker (that this API key may see)", stack)
	}
	if err != nil {
		return nil, err
	}
	st, _, err := decodeServed[config.Stack](raw)
	if err != nil {
		return nil, err
	}
	cfg.Stacks = []config.Stack{st}
	if cfg.Integrations, err = listServed[config.Integration](ctx, c, kindIntegration.path, kindIntegration.list); err != nil {
		return nil, err
	}
	attached, err := listServed[servedAttachment](ctx, c, kindStack.path+"/"+url.PathEscape(stack)+"/attachments", kindAttachment.list)
	if err != nil {
		return nil, err
	}
	for _, a := range attached {
		// Attachments of autoattach rules follow again from the integrations' rules.
		if a.Source == config.SourceDirect {
			cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: a.Stack, Integration: a.Integration, Read: a.Read, Write: a.Write})
		}
	}
	cfg.ApplyObjectDefaults()
	if err := cfg.ValidateObjects(); err != nil {
		return nil, fmt.Errorf("the broker's objects do not pass the configuration rules: %w", err)
	}
	return cfg, nil
}

// listServed fetches a listing and decodes each of its objects into T.
func listServed[T any](ctx context.Context, c *adminClient, path, name string) ([]T, error) {
	list, err := c.getField(ctx, path, name)
	if err != nil {
		return nil, err
	}
	all, err := items(list)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(all))
	for _, raw := range all {
		obj, _, err := decodeServed[T](raw)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}
