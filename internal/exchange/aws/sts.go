package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// webIdentity mints a broker token for STS and trades it with AssumeRoleWithWebIdentity.
func (x *Exchanger) webIdentity(ctx context.Context, c *call, tokens exchange.TokenSource) (result, error) {
	if tokens == nil {
		return result{}, errors.New("aws exchange: web-identity needs a token source")
	}
	audience := c.in.TokenAudience()
	token, err := tokens.Token(ctx, exchange.TokenRequest{Audience: audience, AWSSessionTags: c.aws.SessionTags})
	if err != nil {
		return result{}, fmt.Errorf("aws exchange: mint token: %w", err)
	}

	callCtx, cancel := context.WithTimeout(ctx, exchange.Timeout(c.in))
	defer cancel()
	c.start = time.Now()
	out, err := x.client(c, awssdk.AnonymousCredentials{}).AssumeRoleWithWebIdentity(callCtx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          awssdk.String(c.aws.RoleARN),
		RoleSessionName:  awssdk.String(c.session),
		WebIdentityToken: awssdk.String(token),
		DurationSeconds:  c.duration,
	})
	if err != nil {
		return result{}, x.failed(ctx, callCtx, c, err, token)
	}
	if out == nil {
		out = &sts.AssumeRoleWithWebIdentityOutput{}
	}
	return x.succeeded(ctx, c, out.Credentials, out.AssumedRoleUser)
}

// assumeRole calls AssumeRole with broker's own credentials and the run's ExternalId.
func (x *Exchanger) assumeRole(ctx context.Context, c *call) (result, error) {
	if x.issuerHost == "" {
		return result{}, errors.New("aws exchange: assume-role needs broker's issuer URL for the ExternalId")
	}
	scope, err := c.run.EffectiveScope()
	if err != nil {
		return result{}, fmt.Errorf("aws exchange: %w", err)
	}
	externalID := ExternalID(x.issuerHost, c.in.ID, exchange.StackScope{Stack: c.run.Stack, Scope: scope})

	callCtx, cancel := context.WithTimeout(ctx, exchange.Timeout(c.in))
	defer cancel()
	c.start = time.Now()
	base, err := x.base.get(callCtx)
	var own awssdk.Credentials
	if err == nil {
		own, err = base.Retrieve(callCtx)
	}
	if err != nil {
		return result{}, x.baseFailed(ctx, callCtx, c, err)
	}
	in := &sts.AssumeRoleInput{
		RoleArn:         awssdk.String(c.aws.RoleARN),
		RoleSessionName: awssdk.String(c.session),
		ExternalId:      awssdk.String(externalID),
		DurationSeconds: c.duration,
	}
	if c.aws.SessionTags {
		in.Tags = sessionTags(c.run, scope)
	}
	out, err := x.client(c, base).AssumeRole(callCtx, in)
	if err != nil {
		// STS, or a proxy before it, may echo the signed request: broker's own credentials.
		return result{}, x.failed(ctx, callCtx, c, err, own.SecretAccessKey, own.SessionToken)
	}
	if out == nil {
		out = &sts.AssumeRoleOutput{}
	}
	return x.succeeded(ctx, c, out.Credentials, out.AssumedRoleUser)
}

// succeeded checks STS's answer holds credentials and logs the call, timed from c.start.
func (x *Exchanger) succeeded(ctx context.Context, c *call, creds *ststypes.Credentials, user *ststypes.AssumedRoleUser) (result, error) {
	if creds == nil {
		creds = &ststypes.Credentials{}
	}
	r := result{
		accessKeyID:     awssdk.ToString(creds.AccessKeyId),
		secretAccessKey: awssdk.ToString(creds.SecretAccessKey),
		sessionToken:    awssdk.ToString(creds.SessionToken),
		expiration:      awssdk.ToTime(creds.Expiration),
	}
	// Temporary credentials work only with all three parts, until their expiration.
	var asked time.Duration
	if c.duration != nil {
		asked = time.Duration(*c.duration) * time.Second
	}
	if err := exchange.Usable(exchange.Answer{
		Provider: exchange.AWS, From: "STS at " + c.endpoint, ExpiresAt: r.expiration, Now: time.Now(), Asked: asked,
		Fields: []exchange.Field{
			{Name: "AccessKeyId", Value: r.accessKeyID},
			{Name: "SecretAccessKey", Value: r.secretAccessKey},
			{Name: "SessionToken", Value: r.sessionToken},
		},
	}); err != nil {
		x.logCall(ctx, c, slog.String(exchange.FieldErr, err.Error()))
		return result{}, err
	}
	if user != nil {
		r.assumedRoleARN = awssdk.ToString(user.Arn)
	}
	x.logCall(ctx, c, slog.String("assumed_role", r.assumedRoleARN),
		slog.Time("expires_at", r.expiration))
	return r, nil
}

// logCall writes the debug line of one STS call: what was called, how long it took from
// c.start, and how it went.
func (x *Exchanger) logCall(ctx context.Context, c *call, attrs ...slog.Attr) {
	base := []slog.Attr{
		slog.String(exchange.FieldIntegration, c.in.ID),
		slog.String("mode", c.mode),
		slog.String("role_arn", c.aws.RoleARN),
		slog.String("endpoint", c.endpoint),
		slog.String("region", c.region),
		slog.String(exchange.FieldRun, c.run.ID),
		slog.String("session", c.session),
		slog.Duration(exchange.FieldDuration, time.Since(c.start)),
	}
	x.log.LogAttrs(ctx, slog.LevelDebug, "aws sts call", append(base, attrs...)...)
}

// baseCredentials holds broker's own AWS credentials, loading the SDK default chain on first
// use (and again after a failed load).
type baseCredentials struct {
	mu       sync.Mutex
	provider awssdk.CredentialsProvider
}

func newBaseCredentials(p awssdk.CredentialsProvider) *baseCredentials {
	if p == nil {
		return &baseCredentials{}
	}
	if _, cached := p.(*awssdk.CredentialsCache); !cached {
		p = awssdk.NewCredentialsCache(p)
	}
	return &baseCredentials{provider: p}
}

func (b *baseCredentials) get(ctx context.Context) (awssdk.CredentialsProvider, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.provider != nil {
		return b.provider, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the AWS SDK default configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("the AWS SDK default chain has no credentials provider")
	}
	b.provider = cfg.Credentials
	return b.provider, nil
}

// sessionTags are the run's session tags (claims.SessionTags) as AssumeRole's Tags, by key.
func sessionTags(run runs.Run, scope runs.Scope) []ststypes.Tag {
	tags := claims.SessionTags(run, scope)
	out := make([]ststypes.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ststypes.Tag{Key: awssdk.String(k), Value: awssdk.String(tags[k])})
	}
	return out
}
