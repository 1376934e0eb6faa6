package aws

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
)

// DefaultRegion is the STS region used when an integration names none and neither its STS
// endpoint nor its role's partition tells another (see provider.AWSDefaultRegion).
const DefaultRegion = provider.AWSRegion

// Options configures an Exchanger.
type Options struct {
	// Issuer is broker's issuer URL; its host starts assume-role's ExternalId.
	Issuer string
	// HTTPClient makes the STS calls. Nil means exchange.NewHTTPClient retrying with Retryable.
	HTTPClient *http.Client
	// Logger receives a debug line about each STS call, never a secret; nil discards them.
	// The Info line of each exchange is exchange.Observe's.
	Logger *slog.Logger
	// BaseCredentials are broker's own AWS credentials for assume-role. Nil means the SDK's
	// default chain (environment, shared files, web identity, container and instance roles),
	// loaded on the first assume-role exchange.
	BaseCredentials awssdk.CredentialsProvider
}

// Exchanger implements exchange.Exchanger for AWS. It is safe for concurrent use.
type Exchanger struct {
	issuerHost string
	http       sts.HTTPClient
	log        *slog.Logger
	base       *baseCredentials
}

var _ exchange.Exchanger = (*Exchanger)(nil)

// New returns an AWS exchanger.
func New(opts Options) *Exchanger {
	client := opts.HTTPClient
	if client == nil {
		client = exchange.NewHTTPClient(exchange.ClientOptions{Retryable: Retryable})
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Exchanger{
		issuerHost: config.IssuerHost(opts.Issuer),
		http:       replayingClient{client},
		log:        log,
		base:       newBaseCredentials(opts.BaseCredentials),
	}
}

// Detail is the object returned under "aws" in POST /v1/credentials.
type Detail struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expiration      time.Time `json:"expiration"`
	Region          string    `json:"region,omitempty"`
	RoleARN         string    `json:"roleArn"`
	AssumedRoleARN  string    `json:"assumedRoleArn"`
}

// Exchange implements exchange.Exchanger.
func (x *Exchanger) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	in := req.Integration
	if in.AWS == nil {
		return exchange.Credentials{}, fmt.Errorf("aws exchange: integration %q has no aws block", in.ID)
	}
	if in.AWS.RoleARN == "" {
		return exchange.Credentials{}, fmt.Errorf("aws exchange: integration %q has no role_arn", in.ID)
	}
	c := x.newCall(req)
	var (
		out result
		err error
	)
	switch in.AWS.Mode {
	case config.AWSModeWebIdentity, "":
		c.mode = config.AWSModeWebIdentity
		out, err = x.webIdentity(ctx, c, req.Tokens)
	case config.AWSModeAssumeRole:
		c.mode = config.AWSModeAssumeRole
		out, err = x.assumeRole(ctx, c)
	default:
		return exchange.Credentials{}, fmt.Errorf("aws exchange: integration %q has unknown mode %q", in.ID, in.AWS.Mode)
	}
	if err != nil {
		return exchange.Credentials{}, err
	}
	return c.credentials(out), nil
}

// call is one exchange's parameters, derived once.
type call struct {
	in       config.Integration
	aws      *config.AWS
	run      runs.Run
	mode     string
	region   string
	endpoint string // host named in messages
	session  string
	duration *int32
	// start is when the STS call (with what it needs first) began: its logged duration runs
	// from here. webIdentity and assumeRole set it; failed, succeeded and logCall read it.
	start time.Time
}

func (x *Exchanger) newCall(req exchange.Request) *call {
	a := req.Integration.AWS
	c := &call{in: req.Integration, aws: a, run: req.Run, region: a.Region, session: SessionName(req.Run.ID)}
	if c.region == "" {
		c.region = provider.AWSDefaultRegion(a.RoleARN, a.STSEndpoint)
	}
	if c.region == "" {
		c.region = DefaultRegion
	}
	c.endpoint = "sts." + c.region + ".amazonaws.com"
	if a.STSEndpoint != "" {
		if u, err := url.Parse(a.STSEndpoint); err == nil && u.Host != "" {
			c.endpoint = u.Host
		}
	}
	secs := exchange.Lifetime(req, provider.AWSDefaultSession, provider.AWSMinSession) / time.Second
	n := int32(min(secs, math.MaxInt32))
	c.duration = &n
	return c
}

// client is an STS client for this call: the shared retrying transport underneath, the SDK's
// own retries off, the endpoint as configured.
func (x *Exchanger) client(c *call, creds awssdk.CredentialsProvider) *sts.Client {
	o := sts.Options{
		Region:      c.region,
		Credentials: creds,
		HTTPClient:  x.http,
		Retryer:     awssdk.NopRetryer{},
	}
	if c.aws.STSEndpoint != "" {
		o.BaseEndpoint = awssdk.String(c.aws.STSEndpoint)
	}
	return sts.New(o)
}

// result is what either STS call yields.
type result struct {
	accessKeyID, secretAccessKey, sessionToken string
	expiration                                 time.Time
	assumedRoleARN                             string
}

// credentials builds the exchange result and the environment of contract section 3.
func (c *call) credentials(r result) exchange.Credentials {
	env := map[string]string{
		provider.EnvAWSAccessKeyID:     r.accessKeyID,
		provider.EnvAWSSecretAccessKey: r.secretAccessKey,
		provider.EnvAWSSessionToken:    r.sessionToken,
	}
	if c.aws.Region != "" {
		env[provider.EnvAWSRegion] = c.aws.Region
		env[provider.EnvAWSDefaultRegion] = c.aws.Region
	}
	return exchange.Credentials{
		ExpiresAt: r.expiration,
		Env:       env,
		Detail: Detail{
			AccessKeyID:     r.accessKeyID,
			SecretAccessKey: r.secretAccessKey,
			SessionToken:    r.sessionToken,
			Expiration:      r.expiration,
			Region:          c.aws.Region,
			RoleARN:         c.aws.RoleARN,
			AssumedRoleARN:  r.assumedRoleARN,
		},
	}
}

// sessionNameUnsafe matches characters STS refuses in RoleSessionName.
var sessionNameUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName is the RoleSessionName of a run: "broker-<run id>", made of the characters STS
// allows and cut to its 64-character limit.
func SessionName(runID string) string {
	s := "broker-" + sessionNameUnsafe.ReplaceAllString(runID, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// ExternalID is the ExternalId of an assume-role exchange through integration for a run of
// at.Stack at at.Scope: "<issuer host>@<integration>@<stack>@<read|write>".
func ExternalID(issuerHost, integration string, at exchange.StackScope) string {
	return issuerHost + "@" + integration + "@" + at.Stack + "@" + string(at.Scope)
}
