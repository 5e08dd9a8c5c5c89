package postgres_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/internal/proc"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
)

// The benchmarks report ns/op and ops/s, the throughput of one replica (one DB, one pool of
// its default size) against the test PostgreSQL. "serial" is one caller at a time: each call
// pays its round trips and, for durable writes, its own WAL flush. "parallel" is 16 callers
// per GOMAXPROCS, which PostgreSQL's group commit lets share flushes.

// parallel runs op from callers goroutines per GOMAXPROCS (1: one caller, b.Loop) and
// reports the throughput.
func parallel(b *testing.B, callers int, op func(i int64) error) {
	var seq atomic.Int64
	if callers == 1 {
		for b.Loop() {
			if err := op(seq.Add(1)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(callers)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(seq.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkSaveCode measures SaveCode, a durable compare-and-set under a number's lock, over
// 64 numbers.
func BenchmarkSaveCode(b *testing.B) {
	for _, callers := range []int{1, 16} {
		b.Run(mode(callers), func(b *testing.B) {
			const numbers = 64
			db := openFresh(b, postgres.Options{})
			seed := storetest.Fixture()
			sp := &seed.Accounts[0].Spaces[0]
			sp.PhoneNumbers = nil
			for i := range numbers {
				sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{CustSpaceID: sp.CustSpaceID,
					Number: fmt.Sprintf("86139%08d", i), ID: fmt.Sprint(i), Status: camsd.StatusMigrating})
			}
			if err := db.ApplySeed(b.Context(), seed); err != nil {
				b.Fatal(err)
			}
			// notSentAfter far ahead: the compare runs on every write but never refuses one.
			notSentAfter := storetest.T0.Add(1000 * time.Hour)
			parallel(b, callers, func(i int64) error {
				c := storetest.Code(sp.CustSpaceID, sp.PhoneNumbers[i%numbers].Number, fmt.Sprint(i), storetest.T0.Add(time.Duration(i)))
				return db.SaveCode(b.Context(), nil, c, notSentAfter)
			})
		})
	}
}

// BenchmarkNonce measures Use of fresh nonces, on one AccessKey (whose Uses are serial) and
// spread over 64.
func BenchmarkNonce(b *testing.B) {
	for _, keys := range []int64{1, 64} {
		for _, callers := range []int{1, 16} {
			b.Run(fmt.Sprintf("keys=%d/%s", keys, mode(callers)), func(b *testing.B) {
				db := openFresh(b, postgres.Options{})
				expires := time.Now().Add(15 * time.Minute)
				parallel(b, callers, func(i int64) error {
					return db.Use(b.Context(), nil, fmt.Sprintf("LTAI5tBenchKey%07d", i%keys), fmt.Sprint(i), expires)
				})
			})
		}
	}
}

// BenchmarkLimiter measures Allow on one saturated key (most calls refused; decisions of a key
// are serial) and over 64 keys whose limit is never reached.
func BenchmarkLimiter(b *testing.B) {
	for _, tc := range []struct {
		name  string
		keys  int64
		limit int
	}{{"hot-key", 1, 10}, {"keys=64", 64, 1_000_000}} {
		for _, callers := range []int{1, 16} {
			b.Run(tc.name+"/"+mode(callers), func(b *testing.B) {
				l := postgres.NewLimiter(openFresh(b, postgres.Options{}))
				parallel(b, callers, func(i int64) error {
					_, err := l.Allow(b.Context(), fmt.Sprintf("1001/Action%d", i%tc.keys), tc.limit)
					return err
				})
			})
		}
	}
}

func mode(callers int) string {
	if callers == 1 {
		return "serial"
	}
	return "parallel"
}

// BenchmarkWriteGroup measures write_group alone: one group after another on one connection,
// each what a replica on PostgreSQL + Redis makes on the ok path with the simulator (codes that
// carry their calls' nonces and their messages), of 1 code (one by one), setFrom (the set
// statements' smallest) and 32. An op is one group, its commit included. When the server runs
// on this machine it also reports the backend's CPU per group and per write (from /proc), which
// swings less than wall time on a shared machine: the figure to compare, side by side, when
// write_group changes. In camsd bench a group costs PostgreSQL more than here (the machine's
// other work shares its caches and cores).
func BenchmarkWriteGroup(b *testing.B) {
	for _, size := range []int{1, setFrom, 32} {
		b.Run(fmt.Sprint("codes=", size), func(b *testing.B) {
			_, db, numbers := withNumbers(b, 8*size, postgres.Options{})
			pc, err := postgres.Acquire(b.Context(), db)
			if err != nil {
				b.Fatal(err)
			}
			defer pc.Release()
			var pid int
			if err := pc.QueryRow(b.Context(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				b.Fatal(err)
			}
			seq := 0
			group := func() []postgres.GroupWrite {
				now := time.Now()
				ws := make([]postgres.GroupWrite, size)
				for i := range ws {
					seq++
					// NotSentAfter ahead: the resend compare runs but never refuses.
					c := storetest.Code(storetest.AcmeSpace, numbers[seq%len(numbers)], fmt.Sprint(seq), now)
					ws[i] = postgres.GroupWrite{AccessKeyID: storetest.AcmeKey, Nonce: fmt.Sprint("bench-", seq),
						Expires: now.Add(15 * time.Minute), Now: now, Code: &c, NotSentAfter: now.Add(time.Hour),
						Message: &camsd.Message{PhoneNumber: c.PhoneNumber, Method: c.Method, Locale: c.Locale,
							Code: c.Code, Text: "Your verification code is " + c.Code, CreatedAt: now}, Keep: 1000}
				}
				return ws
			}
			run := func() {
				verdicts, err := postgres.RunGroup(b.Context(), db, pc.Conn(), group()...)
				if err != nil {
					b.Fatal(err)
				}
				if !all(verdicts, "ok") {
					b.Fatalf("verdicts %v, want ok", verdicts)
				}
			}
			for range 100 { // the connection's plans, and an outbox past its keep
				run()
			}
			name, cpu0, cpuErr := proc.CPU(pid)
			for b.Loop() {
				run()
			}
			// Only a backend of this machine's PostgreSQL: a remote server's pid may be any
			// local process's.
			if _, cpu1, err := proc.CPU(pid); cpuErr == nil && err == nil && name == "postgres" {
				perGroup := float64((cpu1 - cpu0).Microseconds()) / float64(b.N)
				b.ReportMetric(perGroup, "pg-µs/group")
				b.ReportMetric(perGroup/float64(size), "pg-µs/write")
			}
		})
	}
}
