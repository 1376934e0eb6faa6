package config

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// checkStore checks store.redis: exactly one of url, sentinel and cluster, each well formed.
// Plain redis (no TLS) is allowed to loopback hosts only, since off the host the Redis password
// and every run record would cross the network in clear, and whoever sits on the path could
// write the store (plant a run in a write phase).
func (v *validator) checkStore() {
	if v.c.Store == nil || v.c.Store.Redis == nil {
		return
	}
	r := v.c.Store.Redis
	modes := 0
	for _, set := range []bool{r.URL != "", r.Sentinel != nil, r.Cluster != nil} {
		if set {
			modes++
		}
	}
	switch {
	case modes == 0:
		v.add("store.redis.url", "", "required when store.redis is set (redis://host:port/db), unless sentinel "+
			"({master, addrs}) or cluster ({addrs}) is set instead")
		return
	case modes > 1:
		v.add("store.redis", "", "url, sentinel and cluster exclude each other; set exactly one")
	}
	if r.URL != "" {
		v.checkRedisURL(r.URL)
		v.checkRedisURLLogin(r)
	}
	if s := r.Sentinel; s != nil {
		if s.Master == "" {
			v.add("store.redis.sentinel.master", "", "required: the name under which the Sentinels monitor the primary")
		}
		if s.DB < 0 {
			v.add("store.redis.sentinel.db", strconv.Itoa(s.DB), "database %d is negative", s.DB)
		}
		v.checkRedisAddrs(redisAddrs{Path: "store.redis.sentinel.addrs", Addrs: s.Addrs, TLS: r.TLS})
	}
	if c := r.Cluster; c != nil {
		v.checkRedisAddrs(redisAddrs{Path: "store.redis.cluster.addrs", Addrs: c.Addrs, TLS: r.TLS})
	}
}

// redisAddrs is a list of Sentinel or cluster-node addresses to check.
type redisAddrs struct {
	// Path names the list in errors.
	Path string
	// Addrs are the host:port addresses.
	Addrs []string
	// TLS is set when the connections to them use TLS.
	TLS bool
}

// checkRedisAddrs checks the host:port addresses of Sentinels or cluster nodes: at least one,
// each with a host and a port, none repeated, and each on loopback unless a.TLS is on.
func (v *validator) checkRedisAddrs(a redisAddrs) {
	path, addrs, tls := a.Path, a.Addrs, a.TLS
	if len(addrs) == 0 {
		v.add(path, "", "required: at least one host:port")
		return
	}
	seen := map[string]bool{}
	for i, addr := range addrs {
		at := path + "[" + strconv.Itoa(i) + "]"
		if shown := redactURL(addr); shown != addr {
			// A URL with a login: never quote it, nor the parser's words on it.
			v.add(at, shown, "%q must be host:port, without a user or password (give the password in password_file)", shown)
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			v.add(at, addr, "%q is not host:port: %v", addr, unwrapAddrError(err))
			continue
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			v.add(at, addr, "%q has an invalid port %q (want 1-65535)", addr, port)
		}
		if host == "" {
			v.add(at, addr, "%q has no host", addr)
		} else if !tls && !isLoopback(host) {
			v.add(at, addr, "plain redis to %q carries the password and every run in clear; set store.redis.tls: true "+
				"off a loopback host", host)
		}
		if seen[addr] {
			v.add(at, addr, "%q is listed twice", addr)
		}
		seen[addr] = true
	}
}

// checkRedisURLLogin checks username and password_file beside url: either may stand in for
// the URL's own, so that no password need be written into the file, but not both at once.
// TLS is the URL's scheme, rediss://.
func (v *validator) checkRedisURLLogin(r *Redis) {
	if r.TLS {
		v.add("store.redis.tls", "", "applies to sentinel and cluster; with url, use rediss:// for TLS")
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.User == nil {
		return
	}
	if _, set := u.User.Password(); set && r.PasswordFile != "" {
		v.add("store.redis.password_file", "", "the url holds a password too; give it in one place only")
	}
	if u.User.Username() != "" && r.Username != "" {
		v.add("store.redis.username", r.Username, "the url names a user too; give it in one place only")
	}
}

// checkRedisURL checks store.redis.url, the one-server form, under checkRedisURLForm's rules
// and then as go-redis opens it, so that an option it does not know or cannot read (?foo=bar,
// ?dial_timeout=soon) is a problem now, not a failed start after a reload that passed. The
// client's error names options and their values, never the login, and loses url.Error's quote
// of the whole URL.
func (v *validator) checkRedisURL(raw string) {
	before := len(v.errs)
	v.checkRedisURLForm(raw)
	if len(v.errs) > before {
		return
	}
	if _, err := redis.ParseURL(raw); err != nil {
		v.add("store.redis.url", "", "not a URL the Redis client opens: %v", unwrapURLError(err))
	}
}

// checkRedisURLForm applies broker's own rules to store.redis.url. A URL whose '@' the parser
// did not take as the end of a login (a password holding '/', '?' or '#' moves the rest of it
// into the host, path, query or fragment) is refused without quoting any part of it.
func (v *validator) checkRedisURLForm(raw string) {
	u, err := url.Parse(raw)
	switch {
	case err == nil && strings.Contains(raw, "@") && atOutsideLogin(u):
		v.add("store.redis.url", "", "an '@' lies outside the login (the URL is not shown): percent-encode a '/', '?' or '#' in the password, or give it in password_file")
		return
	case err != nil && redactURL(raw) != raw:
		// Neither the URL nor the parser's words on it: they may quote its password.
		v.add("store.redis.url", "", "not a valid URL (not shown: it holds a login)")
		return
	case err != nil:
		v.add("store.redis.url", "", "not a valid URL: %v", unwrapURLError(err))
		return
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		v.add("store.redis.url", u.Scheme, "scheme %q is not redis:// or rediss://", u.Scheme)
		return
	}
	// go-redis dials localhost when the host is empty. Off loopback, plain redis:// would carry
	// the Redis password and every run record in clear, and whoever sits on the path could
	// write the store (plant a run in a write phase).
	if u.Scheme == "redis" && u.Hostname() != "" && !isLoopback(u.Hostname()) {
		v.add("store.redis.url", u.Hostname(), "redis:// to %q is plain text; use rediss:// (TLS) off a loopback host", u.Hostname())
	}
	if skipsTLSVerify(u) && u.Hostname() != "" && !isLoopback(u.Hostname()) {
		v.add("store.redis.url", "skip_verify", "skip_verify turns off the check of Redis's TLS certificate, so anyone on the path "+
			"could stand in for Redis; it is allowed only on a loopback host")
	}
	if u.Port() != "" {
		if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
			v.add("store.redis.url", u.Port(), "invalid port %q", u.Port())
		}
	}
	// The database is the path's number, or the db option's, which go-redis takes over it. It is
	// 0 or more, as sentinel.db must be: go-redis selects only a database above 0, so a negative
	// one would run on database 0 without a word.
	dbs := u.Query()["db"]
	if db := strings.Trim(u.Path, "/"); db != "" {
		dbs = append([]string{db}, dbs...)
	}
	for _, db := range dbs {
		if _, err := strconv.ParseUint(db, 10, 31); err != nil {
			v.add("store.redis.url", db, "database %q is not a number of 0 or more", db)
		}
	}
}

// atOutsideLogin reports whether an '@' of a parsed URL lies outside its login: the parser took
// the login (or part of it) for the host, path, query or fragment.
func atOutsideLogin(u *url.URL) bool {
	return u.User == nil || strings.ContainsAny(u.Host+u.Path+u.RawQuery+u.Fragment, "@")
}
