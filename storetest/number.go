package storetest

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// change runs ChangeNumber and fails the test on an error.
func change(t *testing.T, s camsd.Store, space, number string, since time.Time, f func(*camsd.NumberTxn) error) {
	t.Helper()
	if err := s.ChangeNumber(t.Context(), nil, space, number, since, f); err != nil {
		t.Fatalf("ChangeNumber(%s, %s): %v", space, number, err)
	}
}

// look runs ChangeNumber to read the number's state, changing nothing.
func look(t *testing.T, s camsd.Store, space, number string, since time.Time) camsd.NumberTxn {
	t.Helper()
	var seen camsd.NumberTxn
	change(t, s, space, number, since, func(tx *camsd.NumberTxn) error { seen = *tx; return nil })
	return seen
}

func testChangeNumber(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("reads the number in every space that holds it", func(t *testing.T) {
		s := seeded(t, open)
		got := look(t, s, AcmeSpace, Number1, T0)
		want := []camsd.PhoneNumber{
			{CustSpaceID: AcmeSpace, Number: Number1, ID: "pn-acme-1", Status: camsd.StatusMigrating},
			{CustSpaceID: BetaSpace, Number: Number1, ID: "pn-beta-1", Status: camsd.StatusMigrating},
		}
		if got.CustSpaceID != AcmeSpace || got.Number != Number1 {
			t.Errorf("txn names %s/%s", got.CustSpaceID, got.Number)
		}
		if diff := cmp.Diff(want, got.Records, sortRecords); diff != "" {
			t.Errorf("Records (-want +got):\n%s", diff)
		}
		if got.LastCode != nil || len(got.Registrations) != 0 {
			t.Errorf("LastCode %v, Registrations %v; want none", got.LastCode, got.Registrations)
		}
		if r := got.Record(BetaSpace); r == nil || r.ID != "pn-beta-1" {
			t.Errorf("Record(BetaSpace) = %v", r)
		}
	})
	t.Run("a number no space holds has no records", func(t *testing.T) {
		s := seeded(t, open)
		if got := look(t, s, AcmeSpace, "8613811112222", T0); len(got.Records) != 0 {
			t.Errorf("Records = %v; want none", got.Records)
		}
	})
	t.Run("LastCode: the newest of the space whose delivery did not fail", func(t *testing.T) {
		s := seeded(t, open)
		sent := Code(AcmeSpace, Number1, "111111", T0)
		sent.Status = camsd.DeliverySent
		save(t, s, sent, farFuture)
		failed := Code(AcmeSpace, Number1, "222222", T0.Add(time.Minute))
		failed.Status = camsd.DeliveryFailed
		save(t, s, failed, farFuture)
		save(t, s, Code(BetaSpace, Number1, "333333", T0.Add(2*time.Minute)), farFuture)
		got := look(t, s, AcmeSpace, Number1, T0)
		if diff := cmp.Diff(&sent, got.LastCode); diff != "" {
			t.Errorf("LastCode (-want +got):\n%s", diff)
		}
	})
	t.Run("writes back changed records", func(t *testing.T) {
		s := seeded(t, open)
		change(t, s, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
			r := tx.Record(AcmeSpace)
			r.Status, r.InitiatedAt, r.VerifiedAt = camsd.StatusConnected, T0, T0.Add(time.Hour)
			tx.Record(BetaSpace).Status = camsd.StatusMigrated
			return nil
		})
		n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number1)
		if err != nil {
			t.Fatal(err)
		}
		want := camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: Number1, ID: "pn-acme-1",
			Status: camsd.StatusConnected, InitiatedAt: T0, VerifiedAt: T0.Add(time.Hour)}
		if diff := cmp.Diff(&want, n); diff != "" {
			t.Errorf("PhoneNumber after change (-want +got):\n%s", diff)
		}
		if n, _ := s.PhoneNumber(t.Context(), BetaSpace, Number1); n == nil || n.Status != camsd.StatusMigrated {
			t.Errorf("beta's record = %v; want MIGRATED", n)
		}
	})
	t.Run("a change is seen by the next read, whatever was read before it", func(t *testing.T) {
		s := seeded(t, open)
		if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number1); err != nil || n.Status != camsd.StatusMigrating {
			t.Fatalf("PhoneNumber = %v, %v", n, err) // a store with a cache now holds it
		}
		change(t, s, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
			tx.Audit = append(tx.Audit, camsd.AuditRecord{At: T0, Action: "X", CustSpaceID: AcmeSpace, PhoneNumber: Number1})
			return nil
		})
		change(t, s, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
			r := tx.Record(AcmeSpace)
			r.Status, r.VerifiedAt = camsd.StatusConnected, T0
			return nil
		})
		if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number1); err != nil || n.Status != camsd.StatusConnected || !n.VerifiedAt.Equal(T0) {
			t.Errorf("PhoneNumber after the change = %+v, %v; want CONNECTED, verified at T0", n, err)
		}
	})
	t.Run("an appended record without an id gets a new one of 15 digits", func(t *testing.T) {
		s := seeded(t, open)
		var ids []string
		for _, number := range []string{"8613811110001", "8613811110002"} {
			change(t, s, BetaSpace, number, T0, func(tx *camsd.NumberTxn) error {
				tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: BetaSpace, Number: number,
					Status: camsd.StatusMigrating, InitiatedAt: T0})
				return nil
			})
			n, err := s.PhoneNumber(t.Context(), BetaSpace, number)
			if err != nil {
				t.Fatal(err)
			}
			if !newID.MatchString(n.ID) || n.Status != camsd.StatusMigrating || !n.InitiatedAt.Equal(T0) {
				t.Errorf("new record = %+v; want an id of 15 digits, MIGRATING, initiated at T0", n)
			}
			ids = append(ids, n.ID)
		}
		if ids[0] == ids[1] {
			t.Errorf("two new numbers share id %s", ids[0])
		}
	})
	t.Run("the new id is in Records when ChangeNumber returns", func(t *testing.T) {
		s := seeded(t, open)
		var txn *camsd.NumberTxn
		change(t, s, BetaSpace, Number2, T0, func(tx *camsd.NumberTxn) error {
			tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: BetaSpace, Number: Number2, Status: camsd.StatusMigrating})
			txn = tx
			return nil
		})
		n, err := s.PhoneNumber(t.Context(), BetaSpace, Number2)
		if err != nil {
			t.Fatal(err)
		}
		if r := txn.Record(BetaSpace); r == nil || r.ID != n.ID {
			t.Errorf("Records holds %v; the store holds id %s", r, n.ID)
		}
	})
	t.Run("an appended record keeps the id it has", func(t *testing.T) {
		s := seeded(t, open)
		change(t, s, BetaSpace, Number2, T0, func(tx *camsd.NumberTxn) error {
			tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: BetaSpace, Number: Number2, ID: "106540352242922", Status: camsd.StatusMigrating})
			return nil
		})
		if n, err := s.PhoneNumber(t.Context(), BetaSpace, Number2); err != nil || n.ID != "106540352242922" {
			t.Errorf("PhoneNumber = %v, %v; want id 106540352242922", n, err)
		}
	})
	t.Run("a record for a space that does not exist: ErrNotFound, nothing written", func(t *testing.T) {
		s := seeded(t, open)
		err := s.ChangeNumber(t.Context(), nil, "cs-nope", Number1, T0, func(tx *camsd.NumberTxn) error {
			tx.Record(AcmeSpace).Status = camsd.StatusConnected
			tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: "cs-nope", Number: Number1, Status: camsd.StatusMigrating})
			return nil
		})
		if !errors.Is(err, camsd.ErrNotFound) {
			t.Fatalf("ChangeNumber = %v; want ErrNotFound", err)
		}
		if n, _ := s.PhoneNumber(t.Context(), AcmeSpace, Number1); n == nil || n.Status != camsd.StatusMigrating {
			t.Errorf("acme's record = %v; want it unchanged", n)
		}
	})
	t.Run("an error from change is returned as is and nothing is written", func(t *testing.T) {
		s := seeded(t, open)
		refusal := camsd.Errorf(camsd.CodePhoneNumberNotVerified, "no")
		err := s.ChangeNumber(t.Context(), nil, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
			tx.Record(AcmeSpace).Status = camsd.StatusConnected
			tx.Register = T0
			tx.Audit = append(tx.Audit, camsd.AuditRecord{At: T0, Action: "X", PhoneNumber: Number1, CustSpaceID: AcmeSpace})
			return refusal
		})
		if err != refusal { //nolint:errorlint // the contract: as is
			t.Fatalf("ChangeNumber = %v; want the change's own error", err)
		}
		got := look(t, s, AcmeSpace, Number1, T0)
		if got.Record(AcmeSpace).Status != camsd.StatusMigrating || len(got.Registrations) != 0 {
			t.Errorf("after a failed change: %+v", got)
		}
		if a, err := s.Audit(t.Context(), camsd.AuditQuery{}); err != nil || len(a) != 0 {
			t.Errorf("Audit = %v, %v; want none", a, err)
		}
	})
	t.Run("code attempts and use are written back", func(t *testing.T) {
		s := seeded(t, open)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		change(t, s, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
			tx.LastCode.Attempts = 3
			tx.LastCode.UsedAt = T0.Add(time.Second)
			return nil
		})
		c, err := s.LastCode(t.Context(), AcmeSpace, Number1)
		if err != nil || c.Attempts != 3 || !c.UsedAt.Equal(T0.Add(time.Second)) {
			t.Errorf("LastCode = %+v, %v; want 3 attempts, used at T0+1s", c, err)
		}
		if got := look(t, s, AcmeSpace, Number1, T0); got.LastCode.Attempts != 3 {
			t.Errorf("next change sees %d attempts", got.LastCode.Attempts)
		}
	})
	t.Run("registrations of the number in any space since the given time", func(t *testing.T) {
		s := seeded(t, open)
		for i, sp := range []string{AcmeSpace, BetaSpace, AcmeSpace} {
			change(t, s, sp, Number1, T0, func(tx *camsd.NumberTxn) error {
				tx.Register = T0.Add(time.Duration(i) * time.Hour)
				return nil
			})
		}
		change(t, s, AcmeSpace, Number2, T0, func(tx *camsd.NumberTxn) error { tx.Register = T0; return nil })
		got := look(t, s, BetaSpace, Number1, T0.Add(time.Hour))
		want := []time.Time{T0.Add(time.Hour), T0.Add(2 * time.Hour)}
		if diff := cmp.Diff(want, got.Registrations); diff != "" {
			t.Errorf("Registrations since T0+1h (-want +got):\n%s", diff)
		}
	})
	t.Run("concurrent changes of one number do not interleave", func(t *testing.T) {
		s := seeded(t, open)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		const n = 20
		errs := concurrently(n, func(i int) error {
			// Acting from either space: the two records are one number.
			space := AcmeSpace
			if i%2 == 1 {
				space = BetaSpace
			}
			return s.ChangeNumber(t.Context(), nil, space, Number1, T0, func(tx *camsd.NumberTxn) error {
				r := tx.Record(AcmeSpace)
				r.VerifiedAt = r.VerifiedAt.Add(time.Second)
				if r.VerifiedAt.Before(T0) {
					r.VerifiedAt = T0
				}
				return nil
			})
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		n1, _ := s.PhoneNumber(t.Context(), AcmeSpace, Number1)
		if want := T0.Add((n - 1) * time.Second); n1 == nil || !n1.VerifiedAt.Equal(want) {
			t.Errorf("after %d increments: %v; want VerifiedAt %v", n, n1, want)
		}
	})
	t.Run("exactly one of concurrent spenders of a code wins", func(t *testing.T) {
		s := seeded(t, open)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		errs := concurrently(16, func(int) error {
			return s.ChangeNumber(t.Context(), nil, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
				if tx.LastCode == nil || !tx.LastCode.UsedAt.IsZero() {
					return camsd.ErrConflict
				}
				tx.LastCode.UsedAt = T0
				return nil
			})
		})
		onlyWinner(t, errs, camsd.ErrConflict)
	})
	t.Run("with a Call, a change sees the changes decided before it", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := t.Context(), &camsd.Call{}
		for i := range 3 {
			err := s.ChangeNumber(ctx, d, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
				r := tx.Record(AcmeSpace)
				if want := T0.Add(time.Duration(i) * time.Second); i > 0 && !r.VerifiedAt.Equal(want) {
					return errors.New("did not see the change before it")
				}
				r.VerifiedAt = T0.Add(time.Duration(i+1) * time.Second)
				return nil
			})
			if err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		if err := d.Wait(); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.PhoneNumber(t.Context(), AcmeSpace, Number1); n == nil || !n.VerifiedAt.Equal(T0.Add(3*time.Second)) {
			t.Errorf("after Wait: %v", n)
		}
	})
}

func testAudit(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := seeded(t, open)
	rec := func(at time.Duration, action, space, number, uid string) camsd.AuditRecord {
		return camsd.AuditRecord{At: T0.Add(at), Action: action, CustSpaceID: space, PhoneNumber: number,
			UID: uid, UserName: "dev", AccessKeyID: DevKey, RequestID: "req-" + action, Outcome: "OK", Detail: "d"}
	}
	initiate := rec(0, "CreateChatappMigrationInitiate", AcmeSpace, Number1, AcmeUID)
	verified := rec(2*time.Second, "ChatappMigrationVerified", AcmeSpace, Number1, AcmeUID)
	verified.Outcome = camsd.CodeVerifyCodeInvalid
	other := rec(3*time.Second, "ChatappMigrationRegister", BetaSpace, Number1, BetaUID)
	change(t, s, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
		tx.Audit = append(tx.Audit, initiate, verified)
		return nil
	})
	change(t, s, BetaSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
		tx.Audit = append(tx.Audit, other)
		return nil
	})
	code := Code(AcmeSpace, Number1, "123456", T0.Add(time.Second))
	code.AccessKeyID, code.Status, code.Method = DevKey, camsd.DeliverySent, "voice"
	save(t, s, code, farFuture)
	sent := camsd.AuditRecord{At: code.SentAt, Action: "GetMigrationVerifyCode", CustSpaceID: AcmeSpace,
		PhoneNumber: Number1, UID: AcmeUID, UserName: "dev", AccessKeyID: DevKey, RequestID: code.RequestID, Outcome: "OK"}

	for _, tc := range []struct {
		name string
		q    camsd.AuditQuery
		want []camsd.AuditRecord
	}{
		{"all, newest first", camsd.AuditQuery{}, []camsd.AuditRecord{other, verified, sent, initiate}},
		{"by number and account", camsd.AuditQuery{PhoneNumber: Number1, UID: AcmeUID}, []camsd.AuditRecord{verified, sent, initiate}},
		{"by account", camsd.AuditQuery{UID: BetaUID}, []camsd.AuditRecord{other}},
		{"by another number", camsd.AuditQuery{PhoneNumber: Number2}, nil},
		{"limited", camsd.AuditQuery{Limit: 2}, []camsd.AuditRecord{other, verified}},
	} {
		got, err := s.Audit(t.Context(), tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// A code's Detail is the store's wording; it must name the method and never the code.
		for i := range got {
			if got[i].Action == "GetMigrationVerifyCode" {
				if !regexp.MustCompile(`voice`).MatchString(got[i].Detail) || regexp.MustCompile(code.Code).MatchString(got[i].Detail) {
					t.Errorf("%s: code record detail %q", tc.name, got[i].Detail)
				}
				got[i].Detail = ""
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

var sortRecords = cmp.Transformer("sortRecords", func(in []camsd.PhoneNumber) map[string]camsd.PhoneNumber {
	m := make(map[string]camsd.PhoneNumber, len(in))
	for _, r := range in {
		m[r.CustSpaceID] = r
	}
	return m
})
