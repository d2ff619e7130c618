// Command pgx-consumer is the real pgx v5 client for the e2e suite: it parses
// a connection string with pgxpool.ParseConfig exactly as the auth gateway
// does, prints what pgx understood as JSON, then (unless -parse-only) runs one
// query through the pool and prints its result.
//
// Input, one of:
//
//	pgx-consumer -url 'postgres://…'   a pgx URL (pgxUrl / pgxBaseUrl output)
//	pgx-consumer -env                  the gateway env map (VIBEWARDEN_DATABASE_*),
//	                                   merged into one DSN by the seed's BuildDSN rule
//
// With -load, instead of one query it runs `select session_user` through the
// pool from -workers goroutines until SIGTERM or SIGINT (a load loop, e.g.
// through a password rotation), prints "ready" on stderr after the first
// success, and then {"load": {"queries", "failures", "errors",
// "session_users", "new_conns", "seconds"}}: every query counted, the first
// 20 error texts (redacted), the logins the server saw, the connections the
// pool opened.
//
// Output (stdout, one JSON object): {"source", "dsn_keys", "config", "query"}.
// On error: the message on stderr (password redacted) and exit 1 when the
// input or its parsing fails, 2 when connecting or querying fails.
// The password is never printed.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// secrets holds every spelling of the password seen in the input, so error
// texts can be scrubbed before they are printed.
var secrets []string

func redact(text string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "REDACTED")
		}
	}
	return text
}

func fail(code int, stage string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", stage, redact(err.Error()))
	os.Exit(code)
}

// rememberPassword records the password of a postgres:// URL, raw and decoded.
func rememberPassword(dsn string) {
	rest := dsn
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@")
	if at < 0 {
		// the authority may contain '/' only encoded; fall back to the first '@'
		at = strings.Index(rest, "@")
	}
	if at < 0 {
		return
	}
	userinfo := rest[:at]
	colon := strings.Index(userinfo, ":")
	if colon < 0 {
		return
	}
	raw := userinfo[colon+1:]
	secrets = append(secrets, raw)
	if dec, err := url.PathUnescape(raw); err == nil && dec != raw {
		secrets = append(secrets, dec)
	}
}

// gatewayTLSModes are the values the seed's Validate() accepts for tls_mode.
var gatewayTLSModes = map[string]bool{"disable": true, "require": true, "verify-ca": true, "verify-full": true}

// buildGatewayDSN is the primary seed's DatabaseConfig.BuildDSN as documented:
// tls_mode → sslmode, connect_timeout (Go duration) → whole seconds,
// pool.max_conns → pool_max_conns, pool.min_conns → pool_min_conns, each only
// when the URL does not carry the key already. Defaults: require, 10s, 10, 2.
func buildGatewayDSN(getenv func(string) string) (string, error) {
	external := strings.TrimSpace(getenv("VIBEWARDEN_DATABASE_EXTERNAL_URL"))
	if external == "" {
		return "", errors.New("VIBEWARDEN_DATABASE_EXTERNAL_URL is empty")
	}
	if !strings.HasPrefix(external, "postgres://") && !strings.HasPrefix(external, "postgresql://") {
		return "", errors.New("VIBEWARDEN_DATABASE_EXTERNAL_URL is not a postgres:// URL")
	}
	or := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	tlsMode := or("VIBEWARDEN_DATABASE_TLS_MODE", "require")
	if !gatewayTLSModes[tlsMode] {
		return "", fmt.Errorf("database.tls_mode %q is not one of disable, require, verify-ca, verify-full", tlsMode)
	}
	timeout, err := time.ParseDuration(or("VIBEWARDEN_DATABASE_CONNECT_TIMEOUT", "10s"))
	if err != nil || timeout <= 0 {
		return "", fmt.Errorf("database.connect_timeout: not a positive Go duration")
	}
	maxConns, err := strconv.Atoi(or("VIBEWARDEN_DATABASE_POOL_MAX_CONNS", "10"))
	if err != nil {
		return "", fmt.Errorf("database.pool.max_conns: %w", err)
	}
	minConns, err := strconv.Atoi(or("VIBEWARDEN_DATABASE_POOL_MIN_CONNS", "2"))
	if err != nil {
		return "", fmt.Errorf("database.pool.min_conns: %w", err)
	}

	base, fragment := external, ""
	if i := strings.Index(external, "#"); i >= 0 {
		base, fragment = external[:i], external[i:]
	}
	present := map[string]bool{}
	if q := strings.Index(base, "?"); q >= 0 {
		values, err := url.ParseQuery(base[q+1:])
		if err != nil {
			return "", fmt.Errorf("VIBEWARDEN_DATABASE_EXTERNAL_URL query: %w", err)
		}
		for k := range values {
			present[k] = true
		}
	}
	var add []string
	for _, kv := range [][2]string{
		{"sslmode", tlsMode},
		{"connect_timeout", strconv.Itoa(int(math.Max(1, math.Ceil(timeout.Seconds()))))},
		{"pool_max_conns", strconv.Itoa(maxConns)},
		{"pool_min_conns", strconv.Itoa(minConns)},
	} {
		if !present[kv[0]] {
			add = append(add, kv[0]+"="+kv[1])
		}
	}
	if len(add) == 0 {
		return external, nil
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	return base + sep + strings.Join(add, "&") + fragment, nil
}

// execModeKeyword spells a QueryExecMode as the default_query_exec_mode value that selects it.
func execModeKeyword(m pgx.QueryExecMode) string {
	switch m {
	case pgx.QueryExecModeCacheStatement:
		return "cache_statement"
	case pgx.QueryExecModeCacheDescribe:
		return "cache_describe"
	case pgx.QueryExecModeDescribeExec:
		return "describe_exec"
	case pgx.QueryExecModeExec:
		return "exec"
	case pgx.QueryExecModeSimpleProtocol:
		return "simple_protocol"
	}
	return m.String()
}

type tlsInfo struct {
	Enabled bool `json:"enabled"`
	// Verify is "full" (chain and host name), "ca" (chain only) or "none".
	Verify             string `json:"verify"`
	ServerName         string `json:"server_name"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
	HasRootCAs         bool   `json:"has_root_cas"`
	CustomVerify       bool   `json:"custom_verify"`
}

func describeTLS(c *tls.Config) tlsInfo {
	if c == nil {
		return tlsInfo{Verify: "none"}
	}
	info := tlsInfo{
		Enabled:            true,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify,
		HasRootCAs:         c.RootCAs != nil,
		CustomVerify:       c.VerifyPeerCertificate != nil || c.VerifyConnection != nil,
	}
	switch {
	case !c.InsecureSkipVerify:
		info.Verify = "full" // Go's own verification: chain plus ServerName
	case info.CustomVerify:
		info.Verify = "ca" // pgx's verify-ca callback: chain only
	default:
		info.Verify = "none"
	}
	return info
}

type fallback struct {
	Host string  `json:"host"`
	Port uint16  `json:"port"`
	TLS  tlsInfo `json:"tls"`
}

type parsed struct {
	Host                  string            `json:"host"`
	Port                  uint16            `json:"port"`
	User                  string            `json:"user"`
	Database              string            `json:"database"`
	PasswordSet           bool              `json:"password_set"`
	MaxConns              int32             `json:"max_conns"`
	MinConns              int32             `json:"min_conns"`
	MinIdleConns          int32             `json:"min_idle_conns"`
	MaxConnLifetime       string            `json:"max_conn_lifetime"`
	MaxConnIdleTime       string            `json:"max_conn_idle_time"`
	DefaultQueryExecMode  string            `json:"default_query_exec_mode"`
	ConnectTimeoutSeconds float64           `json:"connect_timeout_seconds"`
	RuntimeParams         map[string]string `json:"runtime_params"`
	TLS                   tlsInfo           `json:"tls"`
	Fallbacks             []fallback        `json:"fallbacks"`
}

type queryResult struct {
	CurrentUser     string `json:"current_user"`
	CurrentDatabase string `json:"current_database"`
	SSL             bool   `json:"ssl"`
	SSLVersion      string `json:"ssl_version"`
	PoolMaxConns    int32  `json:"pool_max_conns"`
}

type loadResult struct {
	Queries      int64            `json:"queries"`
	Failures     int64            `json:"failures"`
	Errors       []string         `json:"errors"`
	SessionUsers map[string]int64 `json:"session_users"`
	NewConns     int64            `json:"new_conns"`
	Seconds      float64          `json:"seconds"`
}

type output struct {
	Source  string       `json:"source"`
	DSNKeys []string     `json:"dsn_keys"`
	Config  parsed       `json:"config"`
	Query   *queryResult `json:"query,omitempty"`
	Load    *loadResult  `json:"load,omitempty"`
}

// runLoad queries through the pool from `workers` goroutines until SIGTERM
// or SIGINT; a query cut short by the stop is not counted.
func runLoad(cfg *pgxpool.Config, workers int) *loadResult {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fail(2, "pgxpool.NewWithConfig", err)
	}
	defer pool.Close()
	res := &loadResult{Errors: []string{}, SessionUsers: map[string]int64{}}
	var mu sync.Mutex
	var ready sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				var user string
				err := pool.QueryRow(qctx, "select session_user::text").Scan(&user)
				cancel()
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				res.Queries++
				if err != nil {
					res.Failures++
					if len(res.Errors) < 20 {
						res.Errors = append(res.Errors, redact(err.Error()))
					}
				} else {
					res.SessionUsers[user]++
					ready.Do(func() { fmt.Fprintln(os.Stderr, "ready") })
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	res.NewConns = pool.Stat().NewConnsCount()
	res.Seconds = time.Since(start).Seconds()
	return res
}

// queryKeys lists the DSN's query keys in order (no values: they may hold secrets).
func queryKeys(dsn string) []string {
	q := strings.Index(dsn, "?")
	if q < 0 {
		return []string{}
	}
	query := dsn[q+1:]
	if i := strings.Index(query, "#"); i >= 0 {
		query = query[:i]
	}
	keys := []string{}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		keys = append(keys, k)
	}
	return keys
}

func main() {
	urlFlag := flag.String("url", "", "a pgx connection URL")
	envFlag := flag.Bool("env", false, "build the DSN from the gateway's VIBEWARDEN_DATABASE_* variables")
	parseOnly := flag.Bool("parse-only", false, "parse and print the config, do not connect")
	timeout := flag.Duration("timeout", 30*time.Second, "overall time limit for connecting and querying")
	load := flag.Bool("load", false, "query in a loop until SIGTERM/SIGINT, then print the counts")
	workers := flag.Int("workers", 4, "goroutines querying at once (-load)")
	flag.Parse()

	var dsn, source string
	switch {
	case *envFlag && *urlFlag == "":
		rememberPassword(os.Getenv("VIBEWARDEN_DATABASE_EXTERNAL_URL"))
		d, err := buildGatewayDSN(os.Getenv)
		if err != nil {
			fail(1, "gateway config", err)
		}
		dsn, source = d, "env"
	case *urlFlag != "" && !*envFlag:
		dsn, source = *urlFlag, "url"
	default:
		fail(1, "usage", errors.New("give exactly one of -url URL or -env"))
	}
	rememberPassword(dsn)

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		fail(1, "pgxpool.ParseConfig", err)
	}
	cc := cfg.ConnConfig
	secrets = append(secrets, cc.Password)
	out := output{
		Source:  source,
		DSNKeys: queryKeys(dsn),
		Config: parsed{
			Host:                  cc.Host,
			Port:                  cc.Port,
			User:                  cc.User,
			Database:              cc.Database,
			PasswordSet:           cc.Password != "",
			MaxConns:              cfg.MaxConns,
			MinConns:              cfg.MinConns,
			MinIdleConns:          cfg.MinIdleConns,
			MaxConnLifetime:       cfg.MaxConnLifetime.String(),
			MaxConnIdleTime:       cfg.MaxConnIdleTime.String(),
			DefaultQueryExecMode:  execModeKeyword(cc.DefaultQueryExecMode),
			ConnectTimeoutSeconds: cc.ConnectTimeout.Seconds(),
			RuntimeParams:         cc.RuntimeParams,
			TLS:                   describeTLS(cc.TLSConfig),
			Fallbacks:             []fallback{},
		},
	}
	for _, f := range cc.Fallbacks {
		out.Config.Fallbacks = append(out.Config.Fallbacks, fallback{Host: f.Host, Port: f.Port, TLS: describeTLS(f.TLSConfig)})
	}

	if *load {
		out.Load = runLoad(cfg, *workers)
	} else if !*parseOnly {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			fail(2, "pgxpool.NewWithConfig", err)
		}
		defer pool.Close()
		var r queryResult
		err = pool.QueryRow(ctx,
			"select current_user::text, current_database()::text, ssl, coalesce(version, '') from pg_stat_ssl where pid = pg_backend_pid()",
		).Scan(&r.CurrentUser, &r.CurrentDatabase, &r.SSL, &r.SSLVersion)
		if err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				err = errors.New("pg_stat_ssl has no row for this backend")
			}
			fail(2, "query", err)
		}
		r.PoolMaxConns = pool.Stat().MaxConns()
		out.Query = &r
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail(1, "output", err)
	}
}
