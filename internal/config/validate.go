package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/keys"
)

// IDPattern is the rule every id of a space, stack, integration, role and API key follows.
var IDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// validator collects the problems of one Config.
type validator struct {
	c    *Config
	errs Errors
	// first index of each id, per kind; filled by checkIDs.
	spaces, stacks, integrations, roles, apiKeys map[string]int
	// spaceIdx maps each space id to its space, built once per validation.
	spaceIdx map[string]Space
	// slots holds the read and write attachment slots taken, filled by checkAttachments.
	slots map[attachSlot]slotUse
	// usableCache memoises usable per space; templateCache the problems of each template.
	usableCache, templateCache map[string][]string
	// fileRules adds the rules Validate holds the file to and ValidateObjects leaves to the
	// API's check of each change, so that a store holding objects written before a rule existed
	// still takes changes: spaces deeper than MaxSpaceDepth (the API checks only the spaces a
	// change places), the formats of cloud identifiers (see CheckIntegrationFormats) and the
	// bounds on labels (see CheckLabelLimits).
	fileRules bool
}

// usable is Config.UsableSpaces over the validator's index, memoised.
func (v *validator) usable(space string) []string {
	if u, ok := v.usableCache[space]; ok {
		return u
	}
	if v.usableCache == nil {
		v.usableCache = map[string][]string{}
	}
	u := usableSpaces(v.spaceIdx, space)
	v.usableCache[space] = u
	return u
}

// Validate checks the whole configuration (after defaults) and returns Errors listing every
// problem, or nil. Problems carry the line of their key when the Config came from Parse or Load.
func (c *Config) Validate() error {
	v := &validator{c: c, fileRules: true}
	v.checkIssuer()
	v.checkListen()
	v.checkTLS()
	v.checkStore()
	v.checkKeys()
	v.checkDurations()
	v.checkTrustedProxies()
	v.checkAuditSinks()
	v.checkObjects()
	return v.errs.orNil()
}

// ValidateObjects checks only the catalog objects (spaces, stacks, integrations, attachments,
// roles and API keys) with the same rules and messages as Validate. The API runs it on the
// file's objects merged with its own.
func (c *Config) ValidateObjects() error {
	v := &validator{c: c}
	v.checkObjects()
	return v.errs.orNil()
}

// checkObjects checks every catalog object and the references between them.
func (v *validator) checkObjects() {
	c := v.c
	v.spaceIdx = c.spaceIndex()
	v.spaces = v.checkIDs("spaces", len(c.Spaces), func(i int) string { return c.Spaces[i].ID })
	v.stacks = v.checkIDs("stacks", len(c.Stacks), func(i int) string { return c.Stacks[i].ID })
	v.integrations = v.checkIDs("integrations", len(c.Integrations), func(i int) string { return c.Integrations[i].ID })
	v.roles = v.checkIDs("roles", len(c.Roles), func(i int) string { return c.Roles[i].ID })
	v.apiKeys = v.checkIDs("api_keys", len(c.APIKeys), func(i int) string { return c.APIKeys[i].ID })

	v.checkSpaces()
	v.checkStacks()
	v.checkIntegrations()
	v.checkAudiences()
	v.checkAttachments()
	v.checkRoles()
	v.checkAPIKeys()
	v.checkLabels()
	v.checkAutoattach()
}

// add records a problem at path with the offending value.
func (v *validator) add(path, value, format string, args ...any) {
	v.errs = append(v.errs, newFieldError(v.c.Source, v.c.lineFor(path), path, value, format, args...))
}

func (v *validator) checkIssuer() {
	if v.c.Issuer == "" {
		v.add("issuer", "", "required (the https URL that is the iss claim)")
		return
	}
	if shown, problem := issuerProblem(v.c.Issuer); problem != "" {
		v.add("issuer", shown, "%s", problem)
	}
}

// CheckIssuer returns why iss cannot be broker's issuer (the iss claim every relying party
// matches), nil when it can: an absolute https URL (http only on a loopback host) with a host,
// no user information, query or fragment, no slash at its end, and a path (if any) that
// discovery can be served under (see servablePath). The error shows iss with any password
// left out.
func CheckIssuer(iss string) error {
	if iss == "" {
		return errors.New("the issuer is empty")
	}
	if _, problem := issuerProblem(iss); problem != "" {
		return errors.New(problem)
	}
	return nil
}

// issuerProblem is CheckIssuer's rule for a non-empty iss: what to show of iss (without a
// password) and the problem, empty when there is none.
func issuerProblem(iss string) (shown, problem string) {
	u, err := url.Parse(iss)
	shown = redactURL(iss) // errors go to logs and the audit trail: never a password
	switch {
	case err != nil && shown != iss:
		return shown, fmt.Sprintf("%q is not a URL", shown) // the parser's words may quote a secret
	case err != nil:
		return shown, fmt.Sprintf("%q is not a URL: %v", iss, unwrapURLError(err))
	case u.Scheme == "" || u.Hostname() == "" || u.Opaque != "":
		return shown, fmt.Sprintf("%q must be an absolute URL such as https://broker.example.com", shown)
	case u.Scheme != "https" && u.Scheme != "http":
		return shown, fmt.Sprintf("%q must use https", shown)
	case u.User != nil:
		return shown, fmt.Sprintf("%q must not contain user information", shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(iss, "#"):
		return shown, fmt.Sprintf("%q must not have a query or fragment", shown)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return shown, fmt.Sprintf("%q must use https (plain http is allowed only on a loopback host)", shown)
	case !dialablePort(u.Port()):
		return shown, fmt.Sprintf("%q has port %s, which names no server (want 1-65535)", shown, u.Port())
	case !plainHost(u.Hostname()):
		// The host is written into every token's iss and into identifiers the clouds check by
		// pattern (AWS's ExternalId takes ASCII letters, digits and _+=,.@:/- only).
		return shown, fmt.Sprintf("%q must name its host as a DNS name (ASCII letters, digits, - and ., at most "+
			"253 characters and labels of at most 63, an internationalised name in its xn-- form) or an IP address", shown)
	case strings.HasSuffix(iss, "/"):
		return shown, fmt.Sprintf("%q must not end with a slash", shown)
	case !servablePath(u.EscapedPath()):
		// Discovery and the JWKS are served under the issuer's path, where relying parties
		// fetch them: a path that reads two ways cannot be routed to them.
		return shown, fmt.Sprintf("%q must have a plain path: segments of letters, digits and -._~ "+
			"only, none empty, . or ..", shown)
	}
	return shown, ""
}

// issuerPathRE matches a non-empty issuer path of plain segments: letters, digits and -._~,
// no percent-encoding (which a router decodes).
var issuerPathRE = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// servablePath reports whether an issuer's escaped path is empty or plain segments none of
// which is . or .. (Clean would remove them): one a relying party and a router read alike.
func servablePath(p string) bool {
	return p == "" || issuerPathRE.MatchString(p) && path.Clean(p) == p
}

// plainHost reports whether host (without brackets or port) is an IP address with no zone, or a
// name of ASCII letters, digits, '-', '_' and '.' within DNS's lengths: at most 253 characters,
// each label at most 63.
func plainHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return true
	}
	if host == "" || len(host) > 253 || strings.Trim(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if len(label) > 63 {
			return false
		}
	}
	return true
}

// IsLoopbackHost reports whether host is localhost or a loopback IP: the only hosts broker
// talks plain http (or plain redis://) to, since no network lies on the path.
func IsLoopbackHost(host string) bool { return isLoopback(host) }

// isLoopback reports whether host is localhost or a loopback IP (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL is raw with whatever lies between its scheme and its last '@' replaced by
// "REDACTED" (all of it up to that '@' when it starts with no scheme), so that an error quoting it
// never repeats a password, even one holding '/', '?' or '#' that keeps the URL from parsing;
// a string without '@' is returned as it is.
func redactURL(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	scheme, _, ok := strings.Cut(raw[:at], "://")
	if !ok || !schemeName.MatchString(scheme) {
		return "REDACTED" + raw[at:]
	}
	return scheme + "://REDACTED" + raw[at:]
}

// schemeName matches a URL scheme's name: a letter, then letters, digits, '+', '.' or '-'. What
// comes before a "://" is kept in a redacted login only when it is one, since a password may
// hold "://" too.
var schemeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// loginInText matches a login written into a URL or an address: after a scheme's "://", all
// up to the last '@' of the line, whatever it holds (a password may hold quotes or a space); or,
// without a scheme, a word holding a ':' up to the last '@' before a space.
var loginInText = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^\n]*@|[^\s"'/:@]+:\S*@`)

// RedactLogins replaces every login (user and password) written into a URL or address in s by
// "REDACTED", wherever a message quotes one: a value of the wrong type, an address that is not
// host:port, any validator's words, a key the API does not know. It may take more than the
// login, never less.
func RedactLogins(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return loginInText.ReplaceAllStringFunc(s, func(m string) string {
		if scheme, _, ok := strings.Cut(m, "://"); ok && schemeName.MatchString(scheme) {
			return scheme + "://REDACTED@"
		}
		return "REDACTED@"
	})
}

// ErrURLWithheld stands for an error about a URL that would quote it (see WithoutURL).
var ErrURLWithheld = errors.New("a URL is not valid (not repeated: it may hold a login)")

// WithoutURL returns err, or ErrURLWithheld when err is or wraps a *url.Error, whose text
// quotes the URL and the part of it that failed, a password among them: a client library
// reading a proxy or server URL from the environment (VAULT_PROXY_ADDR) fails so.
func WithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ErrURLWithheld
	}
	return err
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func (v *validator) checkListen() {
	l := v.c.Listen
	_, port, err := net.SplitHostPort(l)
	if err != nil {
		v.add("listen", l, "%q is not host:port: %v", l, unwrapAddrError(err))
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		v.add("listen", l, "%q has an invalid port %q (want 0-65535)", l, port)
	}
}

func unwrapAddrError(err error) string {
	if ae, ok := err.(*net.AddrError); ok {
		return ae.Err
	}
	return err.Error()
}

func (v *validator) checkTLS() {
	t := v.c.TLS
	if t == nil {
		return
	}
	if t.CertFile == "" {
		v.add("tls.cert_file", "", "required when tls is set")
	}
	if t.KeyFile == "" {
		v.add("tls.key_file", "", "required when tls is set")
	}
}

// skipsTLSVerify reports whether a Redis URL's skip_verify query option, read as go-redis reads
// it (the last value), is anything but off.
func skipsTLSVerify(u *url.URL) bool {
	sv := u.Query()["skip_verify"]
	if len(sv) == 0 {
		return false
	}
	last := sv[len(sv)-1]
	return last != "" && last != "false" && last != "0"
}

func (v *validator) checkKeys() {
	k := v.c.Keys
	redis := v.c.Store != nil && v.c.Store.Redis != nil
	switch k.Backend {
	case BackendMemory:
		if redis {
			v.add("keys.backend", k.Backend, "memory keys with store.redis would give every replica its own key; use redis or file (a shared directory)")
		}
	case BackendRedis:
		if !redis {
			v.add("keys.backend", k.Backend, "the redis key backend needs store.redis")
		}
		v.checkKeysRedis()
	case "":
		if !redis {
			v.add("keys.backend", "", "required (memory, file, redis or vault-transit)")
			break
		}
		v.add("keys.backend", "", "required with store.redis: choose redis (with keys.redis.encryption_key_file or "+
			"keys.redis.encryption_key_env, the key that encrypts the private keys in Redis), file (with keys.dir, a "+
			"directory every replica shares) or vault-transit")
	case BackendFile:
		if k.Dir == "" {
			v.add("keys.dir", "", "required when keys.backend is file")
		}
	case BackendVaultTransit:
		vt := k.VaultTransit
		if vt == nil {
			v.add("keys.vault_transit", "", "required when keys.backend is vault-transit (address, mount, key)")
			break
		}
		if vt.Address == "" {
			v.add("keys.vault_transit.address", "", "required when keys.backend is vault-transit")
		} else {
			v.checkBaseURL("keys.vault_transit.address", vt.Address)
		}
		v.checkVaultTransit(vt)
	default:
		v.add("keys.backend", k.Backend, "unknown backend %q (want memory, file, redis or vault-transit)", k.Backend)
	}
	// A backend's own block beside another backend is refused, not ignored: without keys.backend
	// the default is memory, so a file that names only a directory or a Transit key would sign
	// with an ephemeral key its author believes is kept.
	if k.Redis != nil && k.Backend != BackendRedis {
		v.add("keys.redis", "", "applies to keys.backend redis only, not %q", k.Backend)
	}
	if k.Dir != "" && k.Backend != BackendFile {
		v.add("keys.dir", k.Dir, "applies to keys.backend file only, not %q", k.Backend)
	}
	if k.VaultTransit != nil && k.Backend != BackendVaultTransit {
		v.add("keys.vault_transit", "", "applies to keys.backend vault-transit only, not %q", k.Backend)
	}
	if k.Algorithm != "RS256" && k.Algorithm != "ES256" {
		v.add("keys.algorithm", k.Algorithm, "unknown algorithm %q (want RS256 or ES256)", k.Algorithm)
	}

	r := k.Rotation
	v.positive("keys.rotation.period", r.Period)
	v.positive("keys.rotation.prepublish", r.Prepublish)
	v.positive("keys.rotation.retain", r.Retain)
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"keys.rotation.period", r.Period}, {"keys.rotation.prepublish", r.Prepublish}, {"keys.rotation.retain", r.Retain}} {
		if d.d > keys.MaxPolicyDuration {
			v.add(d.key, d.d.String(), "must be at most %s (ten years): the schedule adds these durations up", keys.MaxPolicyDuration)
		}
	}
	if r.Period > 0 && r.Prepublish >= r.Period {
		v.add("keys.rotation.prepublish", r.Prepublish.String(),
			"prepublish %s must be shorter than the rotation period %s, or the next key would be published before the current one starts signing",
			r.Prepublish, r.Period)
	}
	if r.Period > 0 && r.Period <= keys.MaxPolicyDuration && r.Retain > MaxRetainPeriods*r.Period {
		v.add("keys.rotation.retain", r.Retain.String(),
			"retain %s is more than %d rotation periods of %s: the JWKS would publish that many retired keys of each algorithm; lengthen the period",
			r.Retain, MaxRetainPeriods, r.Period)
	}
	if r.Retain > 0 && v.c.Tokens.TTL > 0 && r.Retain < v.c.Tokens.TTL {
		v.add("keys.rotation.retain", r.Retain.String(),
			"retain %s must be at least tokens.ttl %s, or a relying party could meet a token signed by a key no longer published",
			r.Retain, v.c.Tokens.TTL)
	}
}

// checkDurations checks token, run and server durations.
func (v *validator) checkDurations() {
	if v.positive("tokens.ttl", v.c.Tokens.TTL); v.c.Tokens.TTL%time.Second != 0 {
		v.add("tokens.ttl", v.c.Tokens.TTL.String(), "%q must be a whole number of seconds: a token's exp counts seconds", v.c.Tokens.TTL.String())
	}
	// A run's token expires with it and its exp counts seconds: a run of under a second would
	// end before its first token could name an expiry after its start.
	if ttl := v.c.Runs.TTL; ttl <= 0 {
		v.positive("runs.ttl", ttl)
	} else if ttl < time.Second {
		v.add("runs.ttl", ttl.String(), "%q must be at least 1s: a run's token expires with it, and its exp counts seconds", ttl.String())
	}
	h := v.c.HTTP
	v.positive("http.read_header_timeout", h.ReadHeaderTimeout)
	v.positive("http.read_timeout", h.ReadTimeout)
	v.positive("http.write_timeout", h.WriteTimeout)
	v.positive("http.idle_timeout", h.IdleTimeout)
	v.positive("http.shutdown_timeout", h.ShutdownTimeout)
	l := v.c.Limits
	if l.AuthFailures < 0 {
		v.add("limits.auth_failures", fmt.Sprint(l.AuthFailures), "must not be negative")
	}
	v.positive("limits.window", l.Window)
	v.positive("limits.cooloff", l.Cooloff)
	v.positive("limits.store_timeout", l.StoreTimeout)
	cp := v.c.Audit.Checkpoint
	if cp.Every < 1 {
		v.add("audit.checkpoint.every", fmt.Sprint(cp.Every), "must be at least 1")
	}
	if cp.Interval < MinCheckpointInterval {
		v.add("audit.checkpoint.interval", cp.Interval.String(), "must be at least %s, got %s", MinCheckpointInterval, cp.Interval)
	}
	if r := v.c.Audit.Memory.Retain; r < 1 || r > audit.MaxMemoryEvents {
		v.add("audit.memory.retain", fmt.Sprint(r), "must be 1 to %d", audit.MaxMemoryEvents)
	}
	if b := v.c.Audit.Memory.SinkBacklog; b < 1 || b > audit.MaxMemoryEvents {
		v.add("audit.memory.sink_backlog", fmt.Sprint(b), "must be 1 to %d", audit.MaxMemoryEvents)
	}
}

// MinCheckpointInterval is the shortest audit.checkpoint.interval: each checkpoint is an event
// and a signature.
const MinCheckpointInterval = time.Second

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, d.String(), "must be greater than zero, got %s", d)
	}
}

func (v *validator) notNegative(path string, d time.Duration) {
	if d < 0 {
		v.add(path, d.String(), "must not be negative, got %s", d)
	}
}

// checkBaseURL checks an upstream endpoint: an absolute https URL without query or fragment;
// plain http only on a loopback host, where no network lies between broker and the endpoint
// (the calls carry signed ID tokens and bring back credentials).
func (v *validator) checkBaseURL(path, raw string) { v.checkURL(path, raw, withoutQuery) }

// withoutQuery is redactURL(raw) cut before its first '?' or '#': an upstream endpoint may have
// neither, and one written there may be a credential (?token=...), which an error, logged and
// on a reload audited, must not repeat.
func withoutQuery(raw string) string {
	shown := redactURL(raw)
	if i := strings.IndexAny(shown, "?#"); i >= 0 {
		return shown[:i] + "?..."
	}
	return shown
}

// checkSecretURL is checkBaseURL for a URL whose path or query may be its credential (a
// webhook's, as many collectors take a token there): its errors show only its scheme and host.
func (v *validator) checkSecretURL(path, raw string) { v.checkURL(path, raw, schemeAndHost) }

// checkURL is checkBaseURL showing raw in its errors as show(raw), or not at all when that is
// empty.
func (v *validator) checkURL(path, raw string, show func(string) string) {
	u, err := url.Parse(raw)
	shown := show(raw)
	label := "the URL (not shown: it may hold a credential)"
	if shown != "" {
		label = strconv.Quote(shown)
	}
	switch {
	case err != nil && shown != raw:
		v.add(path, shown, "%s is not a URL", label) // the parser's words may quote a secret
	case err != nil:
		v.add(path, raw, "%s is not a URL: %v", label, unwrapURLError(err))
	case u.User != nil:
		v.add(path, shown, "%s must not carry a user name or password", label)
	case u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.Opaque != "":
		v.add(path, shown, "%s must be an absolute http or https URL", label)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		v.add(path, shown, "%s must not have a query or fragment", label)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		v.add(path, shown, "%s must use https (plain http is allowed only on a loopback host)", label)
	case !dialablePort(u.Port()):
		v.add(path, shown, "%s has a port that names no server (want 1-65535)", label)
	}
}

// dialablePort reports whether a URL's port (digits, as url.Parse leaves it) is empty, for the
// scheme's default, or one a client can dial: 1 to 65535.
func dialablePort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}

// schemeAndHost is raw's scheme and host only, with "/..." for whatever follows them; empty for
// a URL that does not parse into both.
func schemeAndHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	shown := u.Scheme + "://" + u.Host
	if u.Opaque != "" || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		shown += "/..."
	}
	return shown
}

// checkIDs checks the id rule and duplicates for one kind of object and returns the first index
// of each id.
func (v *validator) checkIDs(kind string, n int, id func(int) string) map[string]int {
	first := make(map[string]int, n)
	for i := range n {
		path := joinIndex(kind, i) + ".id"
		s := id(i)
		switch {
		case s == "":
			v.add(path, "", "required")
			continue
		case !IDPattern.MatchString(s):
			v.add(path, s, "id %q must match %s (lower case letters, digits and '-', at most 63)", s, IDPattern)
		}
		if j, dup := first[s]; dup {
			v.add(path, s, "duplicate id %q (first at %s)", s, joinIndex(kind, j))
			continue
		}
		first[s] = i
	}
	return first
}
