package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// buildCamsd builds the camsd binary once per test.
func buildCamsd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the camsd binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go is not on PATH (%v): cannot build the camsd binary", err)
	}
	bin := filepath.Join(t.TempDir(), "camsd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestReplicas_KillUnderLoad: a replica on PostgreSQL, with Redis and without, is killed with
// SIGKILL while clients request codes and check wrong ones on 200 numbers; every call it
// acknowledged (a code sent, a wrong try counted) is in the audit trail afterwards, and every
// code it said it sent is recorded as sent.
func TestReplicas_KillUnderLoad(t *testing.T) {
	needServices(t)
	bin := buildCamsd(t)
	for _, redis := range []bool{true, false} {
		name := "PostgreSQL alone"
		if redis {
			name = "PostgreSQL and Redis"
		}
		t.Run(name, func(t *testing.T) { killUnderLoad(t, bin, redis) })
	}
}

func killUnderLoad(t *testing.T, bin string, redis bool) {
	database := freshDatabase(t)

	var seed strings.Builder
	fmt.Fprintf(&seed, "accounts:\n  - uid: %q\n    name: load\n    access_keys: [{id: %s, secret: %s}]\n    spaces:\n      - cust_space_id: cs-load\n        phone_numbers:\n",
		acmeUID, acmeKey, acmeSecret)
	const numbers = 200
	for i := range numbers {
		fmt.Fprintf(&seed, "          - {phone_number: \"86139%08d\", status: MIGRATING}\n", i)
	}
	seedFile := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(seedFile, []byte(seed.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--database", database, "--seed", seedFile, "--qps", "100000", "--resend-interval", "0"}
	if redis {
		args = append(args, "--redis", testRedisURL(), "--redis-prefix", randomName("camsd-test:")+":")
	}
	p := startProcess(t, bin, args...)

	type ack struct{ requestID, action, code string }
	var mu sync.Mutex
	var acks []ack
	var sent int
	client := &http.Client{Timeout: 5 * time.Second}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				number := fmt.Sprintf("86139%08d", (w*7919+i)%numbers)
				action, params := actionGetVC, map[string]string{"CustSpaceId": "cs-load", "PhoneNumber": number, "Locale": "en_US", "Method": "sms"}
				if i%2 == 1 {
					action, params = "ChatappMigrationVerified", map[string]string{"CustSpaceId": "cs-load", "PhoneNumber": number, "VerifyCode": "999999"}
				}
				nonce, _ := newNonce()
				q := signedV2("GET", acmeKey, acmeSecret, action, params, time.Now(), nonce)
				resp, err := client.Get(p.url + "/?" + q.Encode())
				if err != nil {
					continue // the process is gone: nothing was acknowledged
				}
				var body struct{ RequestId, Code string }
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				mu.Lock()
				sent++
				// Acknowledged changes: a code sent, a wrong try counted. (A right guess of
				// 999999 would verify the number and be acknowledged too; it is rare and
				// recorded as well.)
				if err == nil && (body.Code == "OK" || body.Code == camsd.CodeVerifyCodeInvalid) {
					acks = append(acks, ack{body.RequestId, action, body.Code})
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()
	if len(acks) < 50 {
		t.Fatalf("only %d acknowledged changes of %d calls before the kill: the load did not run", len(acks), sent)
	}

	db, err := postgres.Open(context.Background(), database, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trail, err := db.Audit(context.Background(), camsd.AuditQuery{UID: acmeUID})
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, a := range trail {
		recorded[a.RequestID] = true
	}
	sentCodes := sentCodeRequests(t, database)
	lost := 0
	for _, a := range acks {
		if a.action == actionGetVC && !sentCodes[a.requestID] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged code (RequestId %s) is not recorded as sent", a.requestID)
			}
		}
		if !recorded[a.requestID] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged %s %s (RequestId %s) is not in the audit trail", a.action, a.code, a.requestID)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged changes lost by the kill", lost, len(acks))
	}
	t.Logf("killed under load after %d calls: all %d acknowledged changes recorded", sent, len(acks))
}

// sentCodeRequests returns the request ids of the codes the database records as sent.
func sentCodeRequests(t *testing.T, database string) map[string]bool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), database) // the URL has pool parameters
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	conn := pool
	rows, _ := conn.Query(context.Background(), `SELECT request_id FROM verify_codes WHERE status = 'sent'`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	for _, id := range ids {
		sent[id] = true
	}
	return sent
}
