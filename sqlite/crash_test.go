package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
)

// crashEnv, when set, makes TestCrashChild the writer that TestDB_CrashSafety kills;
// crashModeEnv says how it writes: crashWaitEach or crashDurability.
const (
	crashEnv     = "CAMSD_SQLITE_CRASH_CHILD"
	crashModeEnv = "CAMSD_SQLITE_CRASH_MODE"
)

const (
	// crashWaitEach: SaveCode, acknowledged when it returns.
	crashWaitEach = "wait-each"
	// crashDurability: a request's writes (nonce, code, message, status) under one
	// camsd.Durability, acknowledged when its Wait returns.
	crashDurability = "durability"
)

const (
	crashApplyAt = 48 // journal entries: a dozen calls in the durability mode
	crashRounds  = 3
	crashWriters = 8                // concurrent SaveCode callers in the child: kills land mid-batch
	crashMaxLife = 10 * time.Second // the child stops by itself if the parent never kills it
)

// TestDB_CrashSafety checks that "a crash never loses what was acknowledged": a child process
// saves codes as fast as it can and prints each one once it is durable (SaveCode returned, or
// in the durability mode the Wait of the request's writes); the parent SIGKILLs it at a random
// moment, reopens the database and looks for every acknowledged code (and in the durability
// mode for its status and nonce too). Codes written but not yet acknowledged may or may not be
// there; either is correct.
//
// SIGKILL models a process crash, not a power cut: the page cache survives it. The syncer's
// fsync of the log is what covers the power cut; syncer_test.go checks that nothing is
// acknowledged before it.
func TestDB_CrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, mode := range []string{crashWaitEach, crashDurability} {
		t.Run(mode, func(t *testing.T) { testCrashSafety(t, mode) })
	}
}

func testCrashSafety(t *testing.T, mode string) {
	path := t.TempDir() + "/camsd.db"
	db := openAt(t, path, nil)
	if err := db.ApplySeed(t.Context(), crashSeed()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	acked := make(map[string]bool)
	var last string // the last code acknowledged
	for round := range crashRounds {
		for _, code := range crashRound(t, path, mode, round) {
			acked[code] = true
			last = code
		}
	}

	db = openAt(t, path, nil)
	var integrity string
	if err := db.get(t.Context(), `PRAGMA integrity_check`, nil, &integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check = %q, %v", integrity, err)
	}
	stored, nonces := storedCodes(t, db), storedNonces(t, db)
	lost := 0
	for code := range acked {
		status, ok := stored[code]
		switch {
		case !ok:
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged code %s is missing after the crash", code)
			}
		case mode == crashDurability && (status != camsd.DeliverySent || !nonces[code]):
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged request %s: status %q, nonce recorded %v after the crash; want sent, true", code, status, nonces[code])
			}
		}
	}
	if mode == crashDurability && last != "" {
		// The outbox keeps the newest 100 messages, and at most crashWriters calls were in
		// flight after the last acknowledgement, so its message must be there.
		ms, err := db.Messages(t.Context(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range ms {
			found = found || m.Code == last
		}
		if !found {
			t.Errorf("the message of the last acknowledged request %s is missing after the crash (%d messages kept)", last, len(ms))
		}
	}
	t.Logf("%d rounds: %d codes acknowledged, %d stored, %d lost, %d stored without acknowledgement (in flight at the kill)",
		crashRounds, len(acked), len(stored), lost, len(stored)-(len(acked)-lost))
	if len(acked) == 0 {
		t.Fatal("no code was acknowledged: the test proved nothing")
	}
}

// crashRound runs one child, kills it and returns the codes it acknowledged.
func crashRound(t *testing.T, path, mode string, round int) []string {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, crashModeEnv+"="+mode, fmt.Sprintf("CAMSD_SQLITE_CRASH_ROUND=%d", round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []string
	)
	first := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if code, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				mu.Lock()
				acked = append(acked, code)
				if len(acked) == 1 {
					close(first)
				}
				mu.Unlock()
			}
		}
	}()

	// Kill once the child is writing, after a random while, so the kill lands anywhere in
	// the write path rather than always at the same point of a batch.
	select {
	case <-first:
	case <-readDone:
	case <-time.After(crashMaxLife / 2):
	}
	time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
	mu.Lock()
	atKill := len(acked)
	mu.Unlock()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-readDone // what was in the pipe was acknowledged before the kill
	err = cmd.Wait()

	// The child must have died of the kill, not of anything else.
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by SIGKILL; stderr:\n%s", round, err, stderr.String())
	}
	t.Logf("round %d: killed after %d acknowledgements (%d in total, the rest still in the pipe)",
		round, atKill, len(acked))
	return acked
}

// TestCrashChild is the child process of TestDB_CrashSafety; without crashEnv it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child of TestDB_CrashSafety")
	}
	db := NewDB(path)
	// The journal applied every few dozen writes, beside the writer, and its log switching
	// files as often: kills land in the middle of those too.
	db.journalApplyAt = crashApplyAt
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	round := os.Getenv("CAMSD_SQLITE_CRASH_ROUND")
	write := crashSave
	if os.Getenv(crashModeEnv) == crashDurability {
		write = crashRequest
	}
	ctx, cancel := context.WithTimeout(context.Background(), crashMaxLife)
	defer cancel()

	var mu sync.Mutex // one write(2) per line, whole lines only
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			number := crashNumber(w)
			for i := 0; ctx.Err() == nil; i++ {
				code := fmt.Sprintf("r%s-w%d-%d", round, w, i)
				c := storetest.Code("cs-crash", number, code, time.Now())
				if err := write(ctx, db, c); err != nil {
					if ctx.Err() == nil {
						fmt.Fprintf(os.Stderr, "write: %v\n", err)
					}
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", code)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	db.Close()
}

// crashSave saves c, durably when it returns.
func crashSave(ctx context.Context, db *DB, c camsd.VerifyCode) error {
	return db.SaveCode(ctx, nil, c, c.SentAt.Add(24*time.Hour))
}

// crashRequest makes the writes of one GetMigrationVerifyCode call for c under one
// Durability, and returns once they are durable. The nonce is the code.
func crashRequest(ctx context.Context, db *DB, c camsd.VerifyCode) error {
	d := &camsd.Call{}
	m := camsd.Message{PhoneNumber: c.PhoneNumber, Method: c.Method, Locale: c.Locale, Code: c.Code, Text: c.Code, CreatedAt: c.SentAt}
	err := errors.Join(
		db.Use(ctx, d, crashKey, c.Code, c.SentAt.Add(time.Hour)),
		db.SaveCode(ctx, d, c, c.SentAt.Add(24*time.Hour)),
		db.AddMessage(ctx, d, m, 100),
		db.SetCodeStatus(ctx, d, c.CustSpaceID, c.PhoneNumber, c.SentAt, camsd.DeliverySent),
	)
	return errors.Join(err, d.Wait())
}

const crashKey = "LTAI5tCrashKey0000001"

func crashNumber(w int) string { return fmt.Sprintf("86139%08d", w) }

func crashSeed() *camsd.Seed {
	sp := camsd.SeedSpace{Space: camsd.Space{CustSpaceID: "cs-crash", Name: "crash"}}
	for w := range crashWriters {
		sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{
			CustSpaceID: "cs-crash", Number: crashNumber(w), ID: fmt.Sprintf("pn-%d", w), Status: camsd.StatusMigrating,
		})
	}
	return &camsd.Seed{Accounts: []camsd.SeedAccount{{
		Account: camsd.Account{UID: "9001", Name: "crash", Subscribed: true},
		Spaces:  []camsd.SeedSpace{sp},
	}}}
}

// storedCodes returns the status of every stored code.
func storedCodes(t *testing.T, db *DB) map[string]camsd.DeliveryStatus {
	t.Helper()
	stored := make(map[string]camsd.DeliveryStatus)
	for _, row := range queryPairs(t, db, `SELECT code, status FROM verify_codes`) {
		stored[row[0]] = camsd.DeliveryStatus(row[1])
	}
	return stored
}

// storedNonces returns the nonces stored for crashKey.
func storedNonces(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	stored := make(map[string]bool)
	for _, e := range storedNonceEntries(t, db) {
		stored[e.nonce] = e.akid == crashKey
	}
	return stored
}

// queryPairs returns the rows of a query of two text columns.
func queryPairs(t *testing.T, db *DB, query string) [][2]string {
	t.Helper()
	rows, err := db.query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pairs [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pairs
}
