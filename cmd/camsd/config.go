package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/camsd/camsd/sim"
)

// ServeConfig is everything `camsd serve` takes. Each flag can also be set by CAMSD_<NAME>
// in the environment (--max-skew: CAMSD_MAX_SKEW); a flag on the command line wins.
type ServeConfig struct {
	Listen         string
	Region         string // the region camsd says it serves (demo exports); CAMS serves from ap-southeast-1
	DataDir        string
	Database       string // postgres://… for PostgreSQL; empty: SQLite in DataDir
	Redis          string // redis://host:port/db: flow control and nonces in Redis
	RedisTimeout   time.Duration
	RedisPrefix    string
	Seed           string
	QPS            int
	ResendInterval time.Duration
	CodeTTL        time.Duration
	Validity       time.Duration
	MaxAttempts    int
	MaxSkew        time.Duration
	MaxNonces      int
	SimRetention   int
	LogFormat      string

	// TLS: a certificate and its key in PEM files, read again when they change or on SIGHUP;
	// empty: plain HTTP.
	TLSCert, TLSKey           string
	AdminTLSCert, AdminTLSKey string
	MaxConns                  int // connections open at once, per listener
	MaxEventStreams           int // /_sim/events streams open at once

	AdminListen   string
	AdminToken    string // from CAMSD_ADMIN_TOKEN only, never a flag; empty: no admin API
	MetricsListen string // /metrics on its own listener; empty: on the admin listener

	Provider     string // sim or whatsapp
	GraphURL     string
	GraphVersion string
	GraphTimeout time.Duration
	GraphToken   string // from CAMSD_GRAPH_TOKEN only, never a flag, never logged

	// Master keys that seal secrets at rest (masterkey.go): CAMSD_MASTER_KEY or the file;
	// CAMSD_MASTER_KEY_PREVIOUS, keys that only open. The keys are never flags, never logged.
	MasterKeyFile     string
	MasterKey         string
	MasterKeyPrevious string
}

// DefaultServeConfig is what `camsd serve` runs with when nothing is set.
func DefaultServeConfig() ServeConfig {
	return ServeConfig{
		Listen:          "127.0.0.1:8080",
		Region:          "ap-southeast-1",
		DataDir:         "./camsd-data",
		RedisTimeout:    time.Second,
		RedisPrefix:     "camsd:",
		QPS:             10,
		ResendInterval:  60 * time.Second,
		CodeTTL:         10 * time.Minute,
		Validity:        14 * 24 * time.Hour,
		MaxAttempts:     5,
		MaxSkew:         15 * time.Minute,
		MaxNonces:       1_000_000,
		SimRetention:    1000,
		MaxConns:        10_000,
		MaxEventStreams: sim.DefaultMaxStreams,
		LogFormat:       "json",
		AdminListen:     "127.0.0.1:8081",
		Provider:        "sim",
		GraphURL:        "https://graph.facebook.com",
		GraphVersion:    "v21.0",
		GraphTimeout:    5 * time.Second,
	}
}

// LoadServeConfig reads flags, then fills what they did not set from the environment.
func LoadServeConfig(args []string, getenv func(string) string, stderr io.Writer) (ServeConfig, error) {
	c := DefaultServeConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Listen, "listen", c.Listen, "address of the API")
	fs.StringVar(&c.Region, "region", c.Region, "region ID printed for clients (ALIBABA_CLOUD_REGION_ID): the aliyun CLI needs one")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the SQLite database")
	fs.StringVar(&c.Database, "database", c.Database, "postgres://… to keep state in PostgreSQL (several replicas may share it); empty: SQLite in --data-dir")
	fs.StringVar(&c.Redis, "redis", c.Redis, "redis://host:port/db to keep flow control and nonces in Redis")
	fs.DurationVar(&c.RedisTimeout, "redis-timeout", c.RedisTimeout, "how long a call waits for Redis's reply before camsd decides without it (and stops asking it until it answers again)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", c.RedisPrefix, "prefix of camsd's keys in Redis (deployments sharing one Redis need their own)")
	fs.StringVar(&c.Seed, "seed", c.Seed, "YAML seed file of tenants, applied at every start")
	fs.IntVar(&c.QPS, "qps", c.QPS, "calls per second per account per action")
	fs.DurationVar(&c.ResendInterval, "resend-interval", c.ResendInterval, "minimum time between two codes for a number (0 turns it off)")
	fs.DurationVar(&c.CodeTTL, "code-ttl", c.CodeTTL, "how long a verification code stays valid")
	fs.DurationVar(&c.Validity, "verification-validity", c.Validity, "how long a verified number may register")
	fs.IntVar(&c.MaxAttempts, "max-check-attempts", c.MaxAttempts, "wrong tries that kill a verification code")
	fs.DurationVar(&c.MaxSkew, "max-skew", c.MaxSkew, "how far a request's timestamp may be from the server's clock")
	fs.IntVar(&c.MaxNonces, "max-nonces", c.MaxNonces, "live signature nonces kept per AccessKey; beyond it calls are refused")
	fs.IntVar(&c.SimRetention, "sim-retention", c.SimRetention, "messages the simulator keeps")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: json or text")
	fs.StringVar(&c.Provider, "provider", c.Provider, "who sends codes: sim (captured, /_sim/) or whatsapp (Meta's Graph API, token in CAMSD_GRAPH_TOKEN)")
	fs.StringVar(&c.GraphURL, "graph-url", c.GraphURL, "Graph API base URL (--provider whatsapp)")
	fs.StringVar(&c.GraphVersion, "graph-version", c.GraphVersion, "Graph API version (--provider whatsapp)")
	fs.DurationVar(&c.GraphTimeout, "graph-timeout", c.GraphTimeout, "deadline of one Graph API call, retries included (--provider whatsapp)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file of the master key that seals secrets at rest (32 random bytes in base64; further lines: keys that only open, during a rotation); or the key itself in CAMSD_MASTER_KEY")
	fs.StringVar(&c.AdminListen, "admin-listen", c.AdminListen, "address of the admin API (served only when CAMSD_ADMIN_TOKEN is set)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate (chain) of the API: serve HTTPS, TLS 1.2 or later; read again when the file changes or on SIGHUP")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key of --tls-cert")
	fs.StringVar(&c.AdminTLSCert, "admin-tls-cert", c.AdminTLSCert, "PEM certificate (chain) of the admin API, as --tls-cert")
	fs.StringVar(&c.AdminTLSKey, "admin-tls-key", c.AdminTLSKey, "PEM private key of --admin-tls-cert")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "connections each listener holds open at once; over it a new one is closed at once")
	fs.IntVar(&c.MaxEventStreams, "max-event-streams", c.MaxEventStreams, "simulator page event streams (/_sim/events) open at once; over it 503, and the page polls")
	fs.StringVar(&c.MetricsListen, "metrics-listen", c.MetricsListen, "address of /metrics on a listener of its own (plain HTTP, no token); empty: /metrics on the admin listener")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fromEnv := map[string]string{} // flag name -> NAME="value" of the variable that set it
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := "CAMSD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			fromEnv[f.Name] = fmt.Sprintf("%s=%q", env, v)
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %v", fromEnv[f.Name], e)
			}
		}
	})
	if err != nil {
		return c, err
	}
	c.AdminToken = getenv("CAMSD_ADMIN_TOKEN")
	c.GraphToken = getenv("CAMSD_GRAPH_TOKEN")
	c.MasterKey, c.MasterKeyPrevious = getenv("CAMSD_MASTER_KEY"), getenv("CAMSD_MASTER_KEY_PREVIOUS")
	if _, err := c.keyring(); err != nil {
		return c, err
	}
	if err := checkAdminToken(c.AdminToken); err != nil {
		return c, err
	}
	if err := c.validate(); err != nil {
		// A user who set only the variable must not be sent looking for a flag.
		var iv *invalidValue
		if errors.As(err, &iv) && fromEnv[iv.flag] != "" {
			return c, fmt.Errorf("%s: %w", fromEnv[iv.flag], err)
		}
		return c, err
	}
	return c, nil
}

// minAdminToken is the shortest admin token camsd accepts: 32 characters, what
// `openssl rand -hex 16` makes, are out of reach of guessing over the network.
const minAdminToken = 32

// checkAdminToken refuses a token too short to guard the admin API; empty means no admin API.
func checkAdminToken(token string) error {
	if token != "" && len(token) < minAdminToken {
		return fmt.Errorf("CAMSD_ADMIN_TOKEN is too short (%d characters): it must be at least %d (make one with: openssl rand -hex 16)", len(token), minAdminToken)
	}
	return nil
}

// regionID is the form of Alibaba Cloud's region IDs (ap-southeast-1, cn-hangzhou).
var regionID = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)

// invalidValue is a flag's value out of its range.
type invalidValue struct{ flag, want string }

func (e *invalidValue) Error() string { return "--" + e.flag + " " + e.want }

func (c ServeConfig) validate() error {
	switch {
	case !regionID.MatchString(c.Region):
		return &invalidValue{"region", "must be a region ID such as ap-southeast-1 (lowercase letters, digits and hyphens)"}
	case c.QPS < 1:
		return &invalidValue{"qps", "must be at least 1"}
	case c.ResendInterval < 0:
		return &invalidValue{"resend-interval", "must not be negative"}
	case c.CodeTTL <= 0:
		return &invalidValue{"code-ttl", "must be positive"}
	case c.Validity <= 0:
		return &invalidValue{"verification-validity", "must be positive"}
	case c.MaxAttempts < 1:
		return &invalidValue{"max-check-attempts", "must be at least 1"}
	case c.MaxSkew <= 0:
		return &invalidValue{"max-skew", "must be positive"}
	case c.MaxNonces < 1:
		return &invalidValue{"max-nonces", "must be at least 1"}
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return &invalidValue{"tls-cert", "and --tls-key go together: give both or neither"}
	case (c.AdminTLSCert == "") != (c.AdminTLSKey == ""):
		return &invalidValue{"admin-tls-cert", "and --admin-tls-key go together: give both or neither"}
	case c.MaxConns < 1:
		return &invalidValue{"max-conns", "must be at least 1"}
	case c.MaxEventStreams < 1:
		return &invalidValue{"max-event-streams", "must be at least 1"}
	case c.SimRetention < 1:
		return &invalidValue{"sim-retention", "must be at least 1"}
	case c.LogFormat != "json" && c.LogFormat != "text":
		return &invalidValue{"log-format", "must be json or text"}
	case c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://"):
		return &invalidValue{"database", "must be a postgres:// URL (or empty for SQLite in --data-dir)"}
	case c.Redis != "" && !strings.HasPrefix(c.Redis, "redis://") && !strings.HasPrefix(c.Redis, "rediss://"):
		return &invalidValue{"redis", "must be a redis:// URL"}
	case c.RedisTimeout <= 0:
		return &invalidValue{"redis-timeout", "must be positive"}
	case c.Provider != "sim" && c.Provider != "whatsapp":
		return &invalidValue{"provider", "must be sim or whatsapp"}
	case c.Provider == "whatsapp" && c.GraphToken == "":
		return &invalidValue{"provider", "whatsapp needs the Graph API access token in CAMSD_GRAPH_TOKEN"}
	case c.GraphTimeout <= 0:
		return &invalidValue{"graph-timeout", "must be positive"}
	}
	return nil
}
