package sqlite

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
)

// BenchmarkSaveCode measures durable writes per second: one caller at a time (every write pays
// its own fsync), many callers with group commit, and many callers with group commit turned
// off (batches of one), which is what group commit saves.
func BenchmarkSaveCode(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchSaveCode(b, 256, 1) })
	b.Run("parallel", func(b *testing.B) { benchSaveCode(b, 256, 64) })
	b.Run("parallel-nobatch", func(b *testing.B) { benchSaveCode(b, 1, 64) })
}

// benchSaveCode saves codes from callers goroutines per GOMAXPROCS (1: a single caller).
func benchSaveCode(b *testing.B, maxBatch, callers int) {
	const numbers = 64
	db, sp := benchDB(b, numbers, func(db *DB) { db.maxBatch = maxBatch })
	// notSentAfter far ahead: the compare runs on every write but never refuses one.
	notSentAfter := storetest.T0.Add(1000 * time.Hour)
	var seq atomic.Int64
	save := func() error {
		i := seq.Add(1)
		c := storetest.Code(sp.CustSpaceID, number(int(i%numbers)), fmt.Sprint(i), storetest.T0.Add(time.Duration(i)))
		return db.SaveCode(b.Context(), nil, c, notSentAfter)
	}

	commits, writes := db.w.commits.Load(), db.w.writes.Load()
	b.ResetTimer()
	if callers == 1 {
		for b.Loop() {
			if err := save(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(callers)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := save(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	if c := db.w.commits.Load() - commits; c > 0 {
		b.ReportMetric(float64(db.w.writes.Load()-writes)/float64(c), "writes/commit")
	}
}

func number(i int) string { return fmt.Sprintf("86137%08d", i) }

// benchDB opens a database (config as openTemp's) whose one space holds numbers MIGRATING
// numbers, number(0) and on, and returns it with the space.
func benchDB(b *testing.B, numbers int, config func(*DB)) (*DB, *camsd.SeedSpace) {
	db := openTemp(b, config)
	seed := crashSeed()
	sp := &seed.Accounts[0].Spaces[0]
	sp.PhoneNumbers = nil
	for i := range numbers {
		sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{
			CustSpaceID: sp.CustSpaceID, Number: number(i), ID: fmt.Sprint(i), Status: camsd.StatusMigrating,
		})
	}
	if err := db.ApplySeed(b.Context(), seed); err != nil {
		b.Fatal(err)
	}
	return db, sp
}

// BenchmarkUse measures the nonce check plus its durable write, which every signed request
// pays, with many callers sharing commits.
func BenchmarkUse(b *testing.B) {
	db := openTemp(b, nil)
	expires := time.Now().Add(time.Hour)
	var seq atomic.Int64
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			nonce := fmt.Sprint(seq.Add(1))
			if err := db.Use(b.Context(), nil, storetest.AcmeKey, nonce, expires); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uses/s")
}

// BenchmarkPrincipal measures the read every signed request starts with, on the read pool.
func BenchmarkPrincipal(b *testing.B) {
	db := openTemp(b, nil)
	if err := db.ApplySeed(b.Context(), storetest.Fixture()); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Principal(b.Context(), storetest.DevKey); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

// BenchmarkRequestWrites measures the writes of one GetMigrationVerifyCode call (nonce, code,
// captured message, delivery status), made one after the other by each of 32 callers, with
// and without a camsd.Durability.
func BenchmarkRequestWrites(b *testing.B) {
	b.Run("durability", func(b *testing.B) { benchRequestWrites(b, true) })
	b.Run("wait-each", func(b *testing.B) { benchRequestWrites(b, false) })
}

func benchRequestWrites(b *testing.B, durable bool) {
	const numbers = 1000
	db, sp := benchDB(b, numbers, nil)
	expires := time.Now().Add(time.Hour)
	var seq atomic.Int64
	request := func() error {
		i := seq.Add(1)
		ctx := b.Context()
		var d *camsd.Call
		if durable {
			d = &camsd.Call{}
		}
		if err := db.Use(ctx, d, storetest.AcmeKey, fmt.Sprint(i), expires); err != nil {
			return err
		}
		c := storetest.Code(sp.CustSpaceID, number(int(i%numbers)), fmt.Sprint(i), storetest.T0.Add(time.Duration(i)))
		if err := db.SaveCode(ctx, d, c, storetest.T0.Add(1000*time.Hour)); err != nil {
			return err
		}
		m := camsd.Message{PhoneNumber: c.PhoneNumber, Method: "sms", Locale: "en_US", Code: c.Code, Text: "code", CreatedAt: c.SentAt}
		if err := db.AddMessage(ctx, d, m, 1000); err != nil {
			return err
		}
		if err := db.SetCodeStatus(ctx, d, c.CustSpaceID, c.PhoneNumber, c.SentAt, camsd.DeliverySent); err != nil {
			return err
		}
		return d.Wait()
	}

	commits, writes := db.w.commits.Load(), db.w.writes.Load()
	b.ResetTimer()
	b.SetParallelism(16) // 32 callers on 2 cores, as camsd bench
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := request(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	if c := db.w.commits.Load() - commits; c > 0 {
		b.ReportMetric(float64(db.w.writes.Load()-writes)/float64(c), "writes/commit")
	}
}

// BenchmarkJournalApply measures what the writer spends per call sent a code when it applies
// its journal: a code and a captured message per call, spread over 1000 numbers, applied
// 1000 calls at a time with the outbox keeping 1000 messages, in a transaction without a
// savepoint, as the job beside the writer applies it (a savepoint would make SQLite copy
// every page it changes to a sub-journal first, which the job never does).
func BenchmarkJournalApply(b *testing.B) {
	const numbers, calls = 1000, 1000
	db, sp := benchDB(b, numbers, nil)
	es := make([]jentry, 0, 2*calls)
	at := storetest.T0.UnixNano()
	var applying time.Duration
	for b.Loop() {
		es = es[:0]
		for i := range calls {
			at++
			n := number(i % numbers)
			es = append(es,
				jentry{kind: jCode, space: sp.CustSpaceID, number: n, code: "123456", method: "sms", locale: "en_US",
					at: at, expiresAt: at + int64(10*time.Minute), requestID: "5C7A3B8E-0D1F-4F6B-9C1E-2A4B6C8D0E1F",
					accessKeyID: "LTAI5tAcmeRoot00000001", status: string(camsd.DeliverySent)},
				jentry{kind: jMessage, number: n, code: "123456", method: "sms", locale: "en_US",
					text: "Your WhatsApp code is 123456. Don't share this code with others.", at: at, keep: 1000})
		}
		err := db.w.do(b.Context(), &op{single: true, fn: func(tx *wtx) error {
			t0 := time.Now()
			defer func() { applying += time.Since(t0) }()
			return applyJEntries(tx, es)
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(applying.Nanoseconds())/float64(b.N*calls), "ns-apply/call")
}
