package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/brokerhq/broker/internal/config"
)

// liveConfig builds, from a running broker, what broker trust needs to render a stack's trust
// configuration: the issuer its discovery names and the broker's objects (liveObjects). It is
// checked with the file's rules.
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
	cfg, err := liveObjects(ctx, c)
	if errors.Is(err, errPartialTree) {
		return nil, errors.New("BROKER_API_KEY does not see every space; broker trust needs a key bound on root (any role) to check that no other space's subjects collide")
	}
	if err != nil {
		return nil, err
	}
	cfg.Issuer = disc.Issuer
	if _, ok := cfg.Stack(stack); !ok {
		return nil, fmt.Errorf("no stack %q on the broker (that this API key may see)", stack)
	}
	cfg.ApplyObjectDefaults()
	if err := cfg.ValidateObjects(); err != nil {
		return nil, fmt.Errorf("the broker's objects do not pass the configuration rules: %w", err)
	}
	return cfg, nil
}

// errPartialTree is liveObjects' error for an API key that does not see the root space.
var errPartialTree = errors.New("the API key does not see every space")

// liveObjects reads from a running broker every space (their subject templates decide the
// subjects and whether they could collide), every stack, every integration (with its
// autoattach rules) and every stack's direct attachments, with c's API key, which must see
// every space: only a binding on root gives that, and a partial tree could hide the object a
// rule is about (errPartialTree). Roles are not read.
func liveObjects(ctx context.Context, c *adminClient) (*config.Config, error) {
	cfg := &config.Config{Source: c.baseURL}
	var err error
	if cfg.Spaces, err = listServed[config.Space](ctx, c, kindSpace.path, kindSpace.list); err != nil {
		return nil, err
	}
	if _, ok := cfg.Space(config.RootSpace); !ok {
		return nil, errPartialTree
	}
	if cfg.Stacks, err = listServed[config.Stack](ctx, c, kindStack.path, kindStack.list); err != nil {
		return nil, err
	}
	if cfg.Integrations, err = listServed[config.Integration](ctx, c, kindIntegration.path, kindIntegration.list); err != nil {
		return nil, err
	}
	if cfg.Attachments, err = liveDirectAttachments(ctx, c, cfg.Stacks); err != nil {
		return nil, err
	}
	return cfg, nil
}

// liveAttachmentFetches is how many stacks' attachments liveDirectAttachments asks for at once.
const liveAttachmentFetches = 8

// liveDirectAttachments fetches the direct attachments of every stack, in the stacks' order.
// Attachments of autoattach rules follow again from the integrations' rules.
func liveDirectAttachments(ctx context.Context, c *adminClient, stacks []config.Stack) ([]config.Attachment, error) {
	per := make([][]config.Attachment, len(stacks))
	errs := make([]error, len(stacks))
	sem := make(chan struct{}, liveAttachmentFetches)
	var wg sync.WaitGroup
	for i, st := range stacks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			attached, err := listServed[servedAttachment](ctx, c, kindStack.path+"/"+url.PathEscape(st.ID)+"/attachments", kindAttachment.list)
			if err != nil {
				errs[i] = fmt.Errorf("attachments of stack %s: %w", st.ID, err)
				return
			}
			for _, a := range attached {
				if a.Source == config.SourceDirect {
					per[i] = append(per[i], config.Attachment{Stack: a.Stack, Integration: a.Integration, Read: a.Read, Write: a.Write})
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var out []config.Attachment
	for _, a := range per {
		out = append(out, a...)
	}
	return out, nil
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
