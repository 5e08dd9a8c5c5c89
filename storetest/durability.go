package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// testDurability checks the Store's writes made with a camsd.Durability in the context: a
// store may then return before the commit, but each write's outcome is final when it
// returns, and once Wait returns every write is there.
func testDurability(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("SaveCode outcomes are final when it returns", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := camsd.WithDurability(t.Context())
		c := Code(AcmeSpace, Number1, "111111", T0)
		if err := s.SaveCode(ctx, c, farFuture); err != nil {
			t.Fatalf("SaveCode: %v", err)
		}
		again := Code(AcmeSpace, Number1, "222222", T0.Add(time.Second))
		if err := s.SaveCode(ctx, again, again.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCode within the interval = %v; want ErrConflict", err)
		}
		if err := s.SaveCode(ctx, Code(AcmeSpace, "8613899999999", "333333", T0), farFuture); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("SaveCode(unknown number) = %v; want ErrNotFound", err)
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("concurrent callers: exactly one wins", func(t *testing.T) {
		s := seeded(t, open)
		const n = 50
		var mu sync.Mutex
		var waits []*camsd.Durability
		errs := concurrently(n, func(i int) error {
			ctx, d := camsd.WithDurability(t.Context())
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return s.SaveCode(ctx, Code(AcmeSpace, Number1, fmt.Sprintf("%06d", i), T0), T0.Add(-resend))
		})
		for _, d := range waits {
			if err := d.Wait(); err != nil {
				t.Errorf("Wait: %v", err)
			}
		}
		winner := onlyWinner(t, errs, camsd.ErrConflict)
		wantLast(t, s, AcmeSpace, Number1, Code(AcmeSpace, Number1, fmt.Sprintf("%06d", winner), T0))
	})
	t.Run("a caller's writes are made in the order it made them", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := camsd.WithDurability(t.Context())
		c := Code(AcmeSpace, Number1, "111111", T0)
		if err := s.SaveCode(ctx, c, farFuture); err != nil {
			t.Fatalf("SaveCode: %v", err)
		}
		for _, st := range []camsd.DeliveryStatus{camsd.DeliverySent, camsd.DeliveryFailed} {
			if err := s.SetCodeStatus(ctx, AcmeSpace, Number1, c.SentAt, st); err != nil {
				t.Fatalf("SetCodeStatus(%s): %v", st, err)
			}
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		c.Status = camsd.DeliveryFailed
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("later writes see earlier ones before Wait", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := camsd.WithDurability(t.Context())
		c := Code(AcmeSpace, Number1, "111111", T0)
		if err := s.SaveCode(ctx, c, farFuture); err != nil {
			t.Fatalf("SaveCode: %v", err)
		}
		// Another caller, without a Durability, while the first has not waited.
		retry := Code(AcmeSpace, Number1, "222222", T0.Add(time.Second))
		if err := s.SaveCode(t.Context(), retry, retry.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCode of another caller = %v; want ErrConflict", err)
		}
		if err := s.SetCodeStatus(t.Context(), AcmeSpace, Number1, c.SentAt, camsd.DeliverySent); err != nil {
			t.Errorf("SetCodeStatus of another caller = %v; want nil", err)
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		c.Status = camsd.DeliverySent
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("SetCodeStatus: ErrNotFound from the call or from Wait", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := camsd.WithDurability(t.Context())
		err := s.SetCodeStatus(ctx, AcmeSpace, Number1, T0, camsd.DeliverySent)
		if err := errors.Join(err, d.Wait()); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("SetCodeStatus(no code), then Wait = %v; want ErrNotFound", err)
		}
	})
	t.Run("ApplySeed is readable when it returns", func(t *testing.T) {
		s := open(t)
		ctx, d := camsd.WithDurability(t.Context())
		if err := s.ApplySeed(ctx, Fixture()); err != nil {
			t.Fatalf("ApplySeed: %v", err)
		}
		if _, err := s.Principal(t.Context(), AcmeKey); err != nil {
			t.Errorf("Principal before Wait: %v", err)
		}
		if err := d.Wait(); err != nil {
			t.Errorf("Wait: %v", err)
		}
	})
}
