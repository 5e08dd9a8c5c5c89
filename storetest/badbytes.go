package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/camsd/camsd"
)

// badTexts are values made from a real one that no store holds: with NUL, with invalid UTF-8,
// or 300 bytes long. PostgreSQL refuses the first two in text (failing the query), so a store
// must look before it asks; each begins with the real value, so that a store that cut a value
// short would find it.
func badTexts(real string) map[string]string {
	return map[string]string{
		"NUL":           real + "\x00",
		"invalid UTF-8": real + "\xff",
		"300 bytes":     real + strings.Repeat("0", 300-len(real)),
	}
}

// testBadBytes: a space or number that is not UTF-8, holds NUL or is 300 bytes long is not
// found, and no other error. The protocol layer refuses such values before any store sees
// them; this is the stores' own guard, so that they answer alike should one get through.
func testBadBytes(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := seeded(t, open)
	save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
	type key struct{ space, number string }
	var badSpaces, badNumbers []key
	for _, v := range badTexts(AcmeSpace) {
		badSpaces = append(badSpaces, key{v, Number1})
	}
	for _, v := range badTexts(Number1) {
		badNumbers = append(badNumbers, key{AcmeSpace, v})
		badSpaces = append(badSpaces, key{badTexts(AcmeSpace)["NUL"], v})
	}

	t.Run("PhoneNumber", func(t *testing.T) {
		for _, k := range append(badSpaces, badNumbers...) {
			if n, err := s.PhoneNumber(t.Context(), k.space, k.number); n != nil || !errors.Is(err, camsd.ErrNotFound) {
				t.Errorf("PhoneNumber(%q, %q) = %v, %v; want ErrNotFound", k.space, k.number, n, err)
			}
		}
	})
	t.Run("LastCode", func(t *testing.T) {
		for _, k := range append(badSpaces, badNumbers...) {
			if c, err := s.LastCode(t.Context(), k.space, k.number); c != nil || !errors.Is(err, camsd.ErrNotFound) {
				t.Errorf("LastCode(%q, %q) = %v, %v; want ErrNotFound", k.space, k.number, c, err)
			}
		}
	})

	t.Run("Numbers", func(t *testing.T) {
		for _, v := range badTexts(AcmeSpace) {
			if got, err := s.Numbers(t.Context(), v); err != nil || got == nil || len(got) != 0 {
				t.Errorf("Numbers(%q) = %v, %v; want an empty slice", v, got, err)
			}
		}
	})
	t.Run("PreValidated", func(t *testing.T) {
		for _, v := range badTexts(AcmeUID) {
			if got, err := s.PreValidated(t.Context(), v); err != nil || got == nil || len(got) != 0 {
				t.Errorf("PreValidated(%q) = %v, %v; want an empty slice", v, got, err)
			}
		}
	})

	// As for a space that does not exist: a record for it is ErrNotFound, nothing written.
	t.Run("ChangeNumber of a bad space", func(t *testing.T) {
		for _, k := range badSpaces {
			err := s.ChangeNumber(t.Context(), nil, k.space, k.number, T0, func(tx *camsd.NumberTxn) error {
				if r := tx.Record(AcmeSpace); r != nil {
					r.Status = camsd.StatusConnected
				}
				tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: k.space, Number: k.number, Status: camsd.StatusMigrating})
				tx.Audit = append(tx.Audit, camsd.AuditRecord{At: T0, Action: "X", PhoneNumber: k.number, CustSpaceID: k.space})
				return nil
			})
			if !errors.Is(err, camsd.ErrNotFound) {
				t.Errorf("ChangeNumber(%q, %q) = %v; want ErrNotFound", k.space, k.number, err)
			}
		}
		if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number1); err != nil || n.Status != camsd.StatusMigrating {
			t.Errorf("acme's record = %v, %v; want it unchanged", n, err)
		}
		if a, err := s.Audit(t.Context(), camsd.AuditQuery{Limit: 100}); err != nil || len(a) != 1 {
			t.Errorf("Audit = %v, %v; want only SaveCode's record", a, err)
		}
	})

	// As for a number no space holds: the change sees nothing of it (a store may also answer
	// ErrNotFound without running the change).
	t.Run("ChangeNumber of a bad number", func(t *testing.T) {
		for _, k := range badNumbers {
			ran := false
			err := s.ChangeNumber(t.Context(), nil, k.space, k.number, T0, func(tx *camsd.NumberTxn) error {
				ran = true
				if len(tx.Records) != 0 || tx.LastCode != nil || len(tx.Registrations) != 0 {
					t.Errorf("ChangeNumber(%q, %q) sees %+v; want nothing", k.space, k.number, tx)
				}
				return nil
			})
			if err != nil && !(errors.Is(err, camsd.ErrNotFound) && !ran) {
				t.Errorf("ChangeNumber(%q, %q) = %v (change ran: %v); want nil, or ErrNotFound without running the change", k.space, k.number, err, ran)
			}
		}
	})
}
