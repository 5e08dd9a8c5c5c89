package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/camsd/camsd"
)

// demoFile keeps the demo tenant's credentials beside the database, so that a user who missed
// the first start's output can still find them.
const demoFile = "demo.env"

// ensureDemo creates a demo tenant on an empty database and prints, as shell lines, what a
// user needs to call it at once. Its secret is printed by that start only (logs are kept and
// shipped); later starts print a line that reads it from demo.env, which only the owner can
// read. It is for the simulator on the embedded database only: replicas sharing PostgreSQL
// would each make their own, and a server that sends real codes (--provider whatsapp) must
// have no working key nobody asked for; their tenants come from a seed or camsd admin.
func (m *Main) ensureDemo(ctx context.Context) error {
	if m.Config.Database != "" || m.Config.Provider != "sim" {
		return nil
	}
	path := filepath.Join(m.Config.DataDir, demoFile)
	empty, err := m.DB.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		if _, err := os.Stat(path); err == nil {
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			fmt.Fprintf(m.stdout, "# camsd demo tenant: its key is in %s (not printed again); paste these lines into a shell to call it:\n. %s\n%s",
				path, shellQuote(path), m.endpointLines())
		}
		return nil
	}
	d, err := newDemo()
	if err != nil {
		return err
	}
	if err := m.DB.ApplySeed(ctx, d.seed()); err != nil {
		return fmt.Errorf("create demo tenant: %w", err)
	}
	lines := d.env()
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "# camsd created a demo tenant; paste these lines into a shell to call it:\n%s%s", lines, m.endpointLines())
	return nil
}

// endpointLines are the shell lines that point clients at this camsd: CAMSD_ENDPOINT (a URL)
// for camsd call and the examples, ALIBABA_CLOUD_ENDPOINT (host:port, no scheme) and
// ALIBABA_CLOUD_REGION_ID for the aliyun CLI, which needs a region even with an endpoint.
// They are printed at every start, not kept in demo.env: the address and region may change.
func (m *Main) endpointLines() string {
	host := strings.TrimPrefix(strings.TrimPrefix(m.URL, "http://"), "https://")
	return fmt.Sprintf("export CAMSD_ENDPOINT=%s\nexport ALIBABA_CLOUD_ENDPOINT=%s\nexport ALIBABA_CLOUD_REGION_ID=%s\n",
		m.URL, host, m.Config.Region)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type demo struct {
	uid, keyID, secret, space, number, numberID string
}

func newDemo() (*demo, error) {
	var d demo
	var err error
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			k, e := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			if e != nil {
				err = e
				return ""
			}
			b[i] = alphabet[k.Int64()]
		}
		return string(b)
	}
	const digits, alnum = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	d.uid = "1" + pick(digits, 15)
	d.keyID = "LTAI5t" + pick(alnum, 18)
	d.secret = pick(alnum, 30)
	d.space = "2" + pick(digits, 14)
	d.number = "86138" + pick(digits, 8)
	d.numberID = "8" + pick(digits, 10)
	return &d, err
}

func (d *demo) seed() *camsd.Seed {
	return &camsd.Seed{Accounts: []camsd.SeedAccount{{
		Account: camsd.Account{UID: d.uid, Name: "demo", Subscribed: true},
		AccessKeys: []camsd.AccessKey{{
			ID: d.keyID, Secret: d.secret, UID: d.uid, Status: camsd.KeyActive,
		}},
		Spaces: []camsd.SeedSpace{{
			Space: camsd.Space{CustSpaceID: d.space, UID: d.uid, Name: "demo-space"},
			PhoneNumbers: []camsd.PhoneNumber{{
				CustSpaceID: d.space, Number: d.number, ID: d.numberID, Status: camsd.StatusMigrating,
			}},
		}},
	}}}
}

func (d *demo) env() string {
	return fmt.Sprintf("export ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\nexport CustSpaceId=%s\nexport PhoneNumber=%s\n",
		d.keyID, d.secret, d.space, d.number)
}
