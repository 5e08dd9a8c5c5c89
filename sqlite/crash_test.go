package sqlite

import (
	"bufio"
	"bytes"
	"context"
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

// crashEnv, when set, makes TestCrashChild the writer that TestDB_CrashSafety kills.
const crashEnv = "CAMSD_SQLITE_CRASH_CHILD"

const (
	crashRounds  = 3
	crashWriters = 8                // concurrent SaveCode callers in the child: kills land mid-batch
	crashMaxLife = 10 * time.Second // the child stops by itself if the parent never kills it
)

// TestDB_CrashSafety checks that "a crash never loses what was acknowledged": a child process
// saves codes as fast as it can and prints each one after SaveCode returns; the parent SIGKILLs
// it at a random moment, reopens the database and looks for every acknowledged code. Codes
// written but not yet acknowledged may or may not be there; either is correct.
//
// SIGKILL models a process crash, not a power cut: the page cache survives it. The fsync that
// synchronous=FULL adds is what covers the power cut, and it is not exercised here.
func TestDB_CrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := t.TempDir() + "/camsd.db"
	db := openAt(t, path, nil)
	if err := db.ApplySeed(t.Context(), crashSeed()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	acked := make(map[string]bool)
	for round := range crashRounds {
		for _, code := range crashRound(t, path, round) {
			acked[code] = true
		}
	}

	db = openAt(t, path, nil)
	var integrity string
	if err := db.get(t.Context(), `PRAGMA integrity_check`, nil, &integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check = %q, %v", integrity, err)
	}
	stored := storedCodes(t, db)
	lost := 0
	for code := range acked {
		if !stored[code] {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged code %s is missing after the crash", code)
			}
		}
	}
	t.Logf("%d rounds: %d codes acknowledged, %d stored, %d lost, %d stored without acknowledgement (in flight at the kill)",
		crashRounds, len(acked), len(stored), lost, len(stored)-(len(acked)-lost))
	if len(acked) == 0 {
		t.Fatal("no code was acknowledged: the test proved nothing")
	}
}

// crashRound runs one child, kills it and returns the codes it acknowledged.
func crashRound(t *testing.T, path string, round int) []string {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, fmt.Sprintf("CAMSD_SQLITE_CRASH_ROUND=%d", round))
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
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	round := os.Getenv("CAMSD_SQLITE_CRASH_ROUND")
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
				if err := db.SaveCode(ctx, c, c.SentAt.Add(24*time.Hour)); err != nil {
					if ctx.Err() == nil {
						fmt.Fprintf(os.Stderr, "SaveCode: %v\n", err)
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

func storedCodes(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.query(t.Context(), `SELECT code FROM verify_codes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := make(map[string]bool)
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			t.Fatal(err)
		}
		stored[code] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return stored
}
