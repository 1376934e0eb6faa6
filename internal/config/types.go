package config

import "time"

// Config is the whole configuration file. Field tags name the YAML keys of the contract.
type Config struct {
	// Issuer is the exact `iss` claim and the base URL under which discovery is served.
	Issuer string `yaml:"issuer"`
	// Listen is the host:port the HTTP server binds.
	Listen string `yaml:"listen"`
	// TLS, when set, makes the server speak HTTPS.
	TLS *TLS `yaml:"tls"`
	// Store selects where shared state lives; nil means in memory (one replica only).
	Store *Store `yaml:"store"`
	// Keys configures the signing keys.
	Keys Keys `yaml:"keys"`
	// Tokens configures the ID tokens broker mints.
	Tokens Tokens `yaml:"tokens"`
	// Runs configures run lifetime.
	Runs Runs `yaml:"runs"`
	// HTTP tunes the server's timeouts (an extension of the contract).
	HTTP HTTP `yaml:"http"`
	// Limits guard authentication against guessing (an extension of the contract).
	Limits Limits `yaml:"limits"`
	// Audit configures the audit trail (an extension of the contract).
	Audit Audit `yaml:"audit"`

	Spaces       []Space       `yaml:"spaces"`
	Stacks       []Stack       `yaml:"stacks"`
	Integrations []Integration `yaml:"integrations"`
	Attachments  []Attachment  `yaml:"attachments"`
	Roles        []Role        `yaml:"roles"`
	APIKeys      []APIKey      `yaml:"api_keys"`

	// Source names where the configuration came from (a file path, or "embedded default").
	// It is not read from YAML.
	Source string `yaml:"-"`

	// lines maps a key path (as in FieldError.Path) to the line it was read from, so that
	// Validate can point at the file. Nil for a Config built in code.
	lines map[string]int
}

// TLS names the server certificate and key files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Store selects the shared-state backend.
type Store struct {
	Redis *Redis `yaml:"redis"`
}

// Redis locates the Redis holding shared state: exactly one of URL (one server), Sentinel (a
// primary found and followed through Redis Sentinel) or Cluster (a Redis Cluster).
type Redis struct {
	// URL is a redis:// or rediss:// URL as go-redis ParseURL accepts it; it carries its own
	// user, password and TLS choice.
	URL string `yaml:"url"`
	// Sentinel finds the primary through Redis Sentinel.
	Sentinel *RedisSentinel `yaml:"sentinel"`
	// Cluster names nodes of a Redis Cluster.
	Cluster *RedisCluster `yaml:"cluster"`
	// Username, PasswordFile and TLS log in to the data servers: the ACL user (empty: default),
	// a file holding the password (a final newline is ignored) and, for Sentinel or Cluster,
	// TLS to every server and Sentinel, required off loopback. With URL, Username and
	// PasswordFile stand in for the URL's own user and password (so that no password need be
	// written into the file), and TLS is the URL's scheme, rediss://.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	TLS          bool   `yaml:"tls"`
}

// RedisSentinel names the Sentinels and the primary they watch.
type RedisSentinel struct {
	// Master is the name under which the Sentinels monitor the primary.
	Master string `yaml:"master"`
	// Addrs are host:port addresses of Sentinels.
	Addrs []string `yaml:"addrs"`
	// DB is the database number on the primary (default 0).
	DB int `yaml:"db"`
	// PasswordFile, when set, holds the password of the Sentinels themselves.
	PasswordFile string `yaml:"password_file"`
}

// RedisCluster names nodes of a Redis Cluster; broker learns the others from them.
type RedisCluster struct {
	// Addrs are host:port addresses of cluster nodes.
	Addrs []string `yaml:"addrs"`
}

// Key backends.
const (
	BackendMemory = "memory"
	BackendFile   = "file"
	// BackendRedis keeps the key set in the store's Redis, its private keys encrypted under the
	// key that keys.redis names, so that replicas without a shared directory agree on one key set
	// (an extension of the contract).
	BackendRedis        = "redis"
	BackendVaultTransit = "vault-transit"
)

// Keys configures signing keys and their rotation.
type Keys struct {
	// Backend is memory, file, redis or vault-transit. Default memory without store.redis;
	// with store.redis it must be named.
	Backend string `yaml:"backend"`
	// Dir is the key directory of the file backend.
	Dir string `yaml:"dir"`
	// Algorithm is RS256 (default) or ES256.
	Algorithm string `yaml:"algorithm"`
	// Rotation sets the key schedule.
	Rotation Rotation `yaml:"rotation"`
	// VaultTransit configures the vault-transit backend.
	VaultTransit *VaultTransit `yaml:"vault_transit"`
	// Redis configures the redis backend; required with it.
	Redis *KeysRedis `yaml:"redis"`
}

// KeysRedis names the key encryption key of the redis key backend, never stored in Redis:
// exactly one of EncryptionKeyFile and EncryptionKeyEnv. The key is the standard base64 of 32
// random bytes (`openssl rand -base64 32`); every replica must have the same.
type KeysRedis struct {
	// EncryptionKeyFile is a file holding the key: mode 0600 and owned by the user broker runs as.
	EncryptionKeyFile string `yaml:"encryption_key_file"`
	// EncryptionKeyEnv is the name of an environment variable holding the key.
	EncryptionKeyEnv string `yaml:"encryption_key_env"`
}

// Rotation is the key schedule.
type Rotation struct {
	// Period: a new key takes over this often. Default 720h.
	Period time.Duration `yaml:"period"`
	// Prepublish: a new key is in the JWKS this long before it signs. Default 24h.
	Prepublish time.Duration `yaml:"prepublish"`
	// Retain: a retired key stays in the JWKS this long after it stops signing. Default 24h.
	Retain time.Duration `yaml:"retain"`
}

// VaultTransit locates the Vault Transit key that holds the signing keys (the Vault token comes
// from VAULT_TOKEN).
type VaultTransit struct {
	// Address is Vault's base URL.
	Address string `yaml:"address"`
	// Mount is the Transit engine's mount path.
	Mount string `yaml:"mount"`
	// Key is the Transit key of keys.algorithm's chain; another algorithm's chain uses
	// "<key>-rs256" or "<key>-es256".
	Key string `yaml:"key"`
	// Namespace, when set, is the Vault Enterprise namespace of the mount (X-Vault-Namespace).
	Namespace string `yaml:"namespace"`
}

// Tokens configures minted ID tokens.
type Tokens struct {
	// TTL is a token's lifetime, never past its run's expiry. Default 1h.
	TTL time.Duration `yaml:"ttl"`
	// DefaultAudience is the `aud` when a caller names none. Default: the issuer's host.
	DefaultAudience string `yaml:"default_audience"`
}

// Runs configures runs.
type Runs struct {
	// TTL: a run and its run token expire this long after the run starts. Default 3h.
	TTL time.Duration `yaml:"ttl"`
}

// HTTP holds server timeouts, each with a default, and the proxies trusted to name clients.
type HTTP struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	// TrustedProxies are the peers, as CIDRs or bare IPs, whose X-Forwarded-For names the
	// client address (see ParseTrustedProxy). Empty: the TCP peer is always the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Limits configure the failed-authentication limiter: after AuthFailures bad run tokens or
// API keys within Window from one client address, or with one credential prefix, further
// failures get 429 for Cooloff. A valid credential always passes.
type Limits struct {
	AuthFailures int           `yaml:"auth_failures" zero:"default"`
	Window       time.Duration `yaml:"window"`
	Cooloff      time.Duration `yaml:"cooloff"`
	// StoreTimeout bounds each call to the shared store, so an unreachable store answers 503
	// quickly instead of hanging.
	StoreTimeout time.Duration `yaml:"store_timeout"`
}

// Audit configures the audit trail.
type Audit struct {
	// Checkpoint sets how often broker signs the chain's length and tail into it.
	Checkpoint Checkpoint `yaml:"checkpoint"`
	// Sinks each receive every event of the chain, in chain order, at least once.
	Sinks []AuditSink `yaml:"sinks"`
	// Memory configures the chain kept in memory when there is no store.redis.
	Memory AuditMemory `yaml:"memory"`
}

// AuditMemory configures the in-memory audit chain.
type AuditMemory struct {
	// Retain is how many of the latest events are kept; older ones are dropped (they remain
	// in the sinks that received them).
	Retain int `yaml:"retain" zero:"default"`
	// SinkBacklog is how many events are kept, beyond Retain, for the audit sinks that have not
	// received them (a sink that is down); past it the oldest go, and each sink logs its loss.
	SinkBacklog int `yaml:"sink_backlog" zero:"default"`
}

// Checkpoint is the anchoring schedule: a signed checkpoint follows at most Every events, and
// at most Interval after an event.
type Checkpoint struct {
	Every    int           `yaml:"every" zero:"default"`
	Interval time.Duration `yaml:"interval"`
}

// Space is a node of the space tree.
type Space struct {
	ID     string `yaml:"id"`
	Parent string `yaml:"parent"`
	// Inherit lets this space use the integrations of its ancestors, up to the first that does not inherit.
	Inherit bool `yaml:"inherit"`
	// SubjectTemplate overrides the default `sub` format for runs in this space.
	SubjectTemplate string `yaml:"subject_template"`
	// Labels tag the space for listings; each follows the id rule.
	Labels []string `yaml:"labels"`
}

// Stack is an infrastructure stack living in a space.
type Stack struct {
	ID    string `yaml:"id"`
	Space string `yaml:"space"`
	// Labels select the integrations whose autoattach names them; each follows the id rule.
	Labels []string `yaml:"labels"`
}

// Integration is a cloud or Vault target that tokens are exchanged with. Exactly one of
// AWS, GCP, Azure and Vault is set.
type Integration struct {
	ID    string `yaml:"id"`
	Space string `yaml:"space"`

	AWS   *AWS   `yaml:"aws"`
	GCP   *GCP   `yaml:"gcp"`
	Azure *Azure `yaml:"azure"`
	Vault *Vault `yaml:"vault"`

	// Audience overrides the token audience for this integration.
	Audience string `yaml:"audience"`
	// Duration is the lifetime asked for the credentials.
	Duration time.Duration `yaml:"duration"`
	// Timeout bounds each upstream call (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Autoattach attaches the integration to every stack carrying one of the labels, in a
	// space that may use the integration.
	Autoattach []Autoattach `yaml:"autoattach"`
}

// Autoattach is one automatic attachment rule of an integration.
type Autoattach struct {
	Label string `yaml:"label"`
	Read  bool   `yaml:"read"`
	Write bool   `yaml:"write"`
}

// AWS modes.
const (
	AWSModeWebIdentity = "web-identity"
	AWSModeAssumeRole  = "assume-role"
)

// AWS configures an AWS STS exchange.
type AWS struct {
	Mode        string `yaml:"mode"`
	RoleARN     string `yaml:"role_arn"`
	Region      string `yaml:"region"`
	STSEndpoint string `yaml:"sts_endpoint"`
	// SessionTags adds AWS's https://aws.amazon.com/tags claim to the token sent to STS.
	SessionTags bool `yaml:"session_tags"`
}

// GCP configures a Google workload identity federation exchange.
type GCP struct {
	WorkloadIdentityProvider string   `yaml:"workload_identity_provider"`
	ServiceAccount           string   `yaml:"service_account"`
	Scopes                   []string `yaml:"scopes"`
	STSEndpoint              string   `yaml:"sts_endpoint"`
	IAMCredentialsEndpoint   string   `yaml:"iam_credentials_endpoint"`
}

// Azure configures an Entra ID workload identity federation exchange.
type Azure struct {
	TenantID       string `yaml:"tenant_id"`
	ClientID       string `yaml:"client_id"`
	SubscriptionID string `yaml:"subscription_id"`
	Scope          string `yaml:"scope"`
	AuthorityHost  string `yaml:"authority_host"`
}

// Vault configures a Vault JWT auth login.
type Vault struct {
	Address   string `yaml:"address"`
	Mount     string `yaml:"mount"`
	Role      string `yaml:"role"`
	Namespace string `yaml:"namespace"`
}

// Attachment attaches an integration to a stack for read, write or both.
type Attachment struct {
	Stack       string `yaml:"stack"`
	Integration string `yaml:"integration"`
	Read        bool   `yaml:"read"`
	Write       bool   `yaml:"write"`
}

// Role is a named list of actions.
type Role struct {
	ID      string   `yaml:"id"`
	Actions []string `yaml:"actions"`
}

// APIKey is a control-plane credential: the SHA-256 hex of its secret and its role bindings.
type APIKey struct {
	ID           string    `yaml:"id"`
	SecretSHA256 string    `yaml:"secret_sha256"`
	Bindings     []Binding `yaml:"bindings"`
}

// Binding grants a role on a space and its whole subtree.
type Binding struct {
	Role  string `yaml:"role"`
	Space string `yaml:"space"`
}

// Actions a role may hold.
const (
	ActionRunCreate  = "run:create"
	ActionRunRead    = "run:read"
	ActionRunUpdate  = "run:update"
	ActionAuditRead  = "audit:read"
	ActionSpaceAdmin = "space:admin"
)

// RootSpace is the id of the space at the top of the tree.
const RootSpace = "root"
