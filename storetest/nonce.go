package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// NonceOpener returns a fresh, empty NonceStore that holds at most maxLive live nonces per
// AccessKey, and a function that sets the store's clock. The suite sets the clock before its
// first call.
type NonceOpener func(t *testing.T, maxLive int) (s camsd.NonceStore, setNow func(time.Time))

// window is how long the tests keep a nonce: the signature's 15 minutes.
const window = 15 * time.Minute

// RunNonces runs the NonceStore contract against stores made by open.
func RunNonces(t *testing.T, open NonceOpener) {
	// use calls Use and checks its error.
	use := func(t *testing.T, s camsd.NonceStore, akid, nonce string, expires time.Time, want error) {
		t.Helper()
		if err := s.Use(t.Context(), nil, akid, nonce, expires); !errors.Is(err, want) {
			t.Errorf("Use(%q, %q, %v) = %v; want %v", akid, nonce, expires.Sub(T0), err, want)
		}
	}
	openAt := func(t *testing.T, maxLive int) (camsd.NonceStore, func(time.Time)) {
		s, setNow := open(t, maxLive)
		setNow(T0)
		return s, setNow
	}

	t.Run("a nonce is accepted once", func(t *testing.T) {
		s, _ := openAt(t, 100)
		use(t, s, AcmeKey, "n1", T0.Add(window), nil)
		use(t, s, AcmeKey, "n1", T0.Add(window), camsd.ErrNonceUsed)
		use(t, s, AcmeKey, "n1", T0.Add(2*window), camsd.ErrNonceUsed)
	})
	t.Run("nonces are per AccessKey", func(t *testing.T) {
		s, _ := openAt(t, 100)
		use(t, s, AcmeKey, "n1", T0.Add(window), nil)
		use(t, s, DevKey, "n1", T0.Add(window), nil)
	})
	t.Run("no confusion across the key and nonce boundary", func(t *testing.T) {
		s, _ := openAt(t, 100)
		use(t, s, "ab", "c", T0.Add(window), nil)
		use(t, s, "a", "bc", T0.Add(window), nil)
	})
	t.Run("used until it expires, then accepted again", func(t *testing.T) {
		s, setNow := openAt(t, 100)
		use(t, s, AcmeKey, "n1", T0.Add(window), nil)
		setNow(T0.Add(window - time.Second))
		use(t, s, AcmeKey, "n1", T0.Add(2*window), camsd.ErrNonceUsed)
		setNow(T0.Add(window + time.Second))
		use(t, s, AcmeKey, "n1", T0.Add(2*window), nil)
		use(t, s, AcmeKey, "n1", T0.Add(2*window), camsd.ErrNonceUsed)
	})
	t.Run("full: refused, never evicted", func(t *testing.T) {
		s, setNow := openAt(t, 3)
		use(t, s, AcmeKey, "n1", T0.Add(time.Minute), nil)
		use(t, s, AcmeKey, "n2", T0.Add(window), nil)
		use(t, s, AcmeKey, "n3", T0.Add(window), nil)
		use(t, s, AcmeKey, "n4", T0.Add(window), camsd.ErrNonceStoreFull)
		for _, n := range []string{"n1", "n2", "n3"} {
			use(t, s, AcmeKey, n, T0.Add(window), camsd.ErrNonceUsed)
		}
		use(t, s, DevKey, "n4", T0.Add(window), nil) // other keys have their own room

		setNow(T0.Add(2 * time.Minute)) // n1 expired: its room is free again
		use(t, s, AcmeKey, "n4", T0.Add(window), nil)
		use(t, s, AcmeKey, "n5", T0.Add(window), camsd.ErrNonceStoreFull)
		use(t, s, AcmeKey, "n4", T0.Add(window), camsd.ErrNonceUsed)
	})
	t.Run("concurrent uses of one nonce: exactly one accepted", func(t *testing.T) {
		s, _ := openAt(t, 100)
		errs := concurrently(50, func(int) error { return s.Use(t.Context(), nil, AcmeKey, "same", T0.Add(window)) })
		onlyWinner(t, errs, camsd.ErrNonceUsed)
	})
	t.Run("with a Call: decided when Use returns", func(t *testing.T) {
		s, _ := openAt(t, 100)
		ctx, d := t.Context(), &camsd.Call{}
		if err := s.Use(ctx, d, AcmeKey, "n1", T0.Add(window)); err != nil {
			t.Fatalf("Use: %v", err)
		}
		use(t, s, AcmeKey, "n1", T0.Add(window), camsd.ErrNonceUsed) // before Wait
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		use(t, s, AcmeKey, "n1", T0.Add(window), camsd.ErrNonceUsed)
	})
	t.Run("with a Call, concurrent uses of one nonce: exactly one accepted", func(t *testing.T) {
		s, _ := openAt(t, 100)
		errs := concurrently(50, func(int) error {
			ctx, d := t.Context(), &camsd.Call{}
			if err := s.Use(ctx, d, AcmeKey, "same", T0.Add(window)); err != nil {
				return err
			}
			return d.Wait()
		})
		onlyWinner(t, errs, camsd.ErrNonceUsed)
	})
	t.Run("concurrent uses of distinct nonces: all accepted", func(t *testing.T) {
		s, _ := openAt(t, 100)
		errs := concurrently(50, func(i int) error {
			return s.Use(t.Context(), nil, AcmeKey, fmt.Sprintf("n%d", i), T0.Add(window))
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		}
	})
}

// concurrently runs f(0) … f(n-1) at once and returns their errors.
// onlyWinner returns the index of the one caller whose error is nil and fails the test unless
// there is exactly one and every other caller lost with loser.
func onlyWinner(t *testing.T, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("callers %d and %d both won", winner, i)
		case !errors.Is(err, loser):
			t.Errorf("caller %d: %v; want nil or %v", i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d callers won", len(errs))
	}
	return winner
}

func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errs
}
