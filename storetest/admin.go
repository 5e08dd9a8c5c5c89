package storetest

import (
	"errors"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// AdminStore is a Store with the admin API's methods.
type AdminStore interface {
	camsd.Store
	camsd.TenantAdmin
}

// RunAdmin runs the TenantAdmin contract against stores made by open (fresh and empty).
func RunAdmin(t *testing.T, open func(t *testing.T) AdminStore) {
	seededAdmin := func(t *testing.T) AdminStore {
		t.Helper()
		s := open(t)
		if err := s.ApplySeed(t.Context(), Fixture()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("Tenants reads back what the seed made, ordered", func(t *testing.T) {
		s := seededAdmin(t)
		got, err := s.Tenants(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Fixture(), got); diff != "" {
			t.Errorf("Tenants (-want +got):\n%s", diff)
		}
	})
	t.Run("Tenants reads back roles, and a seed of it makes the same", func(t *testing.T) { testTenantsRoles(t, open) })
	t.Run("Tenants of one account", func(t *testing.T) {
		s := seededAdmin(t)
		got, err := s.Tenants(t.Context(), BetaUID)
		if err != nil {
			t.Fatal(err)
		}
		want := &camsd.Seed{Accounts: Fixture().Accounts[1:]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tenants(beta) (-want +got):\n%s", diff)
		}
		if got, err := s.Tenants(t.Context(), "9999"); err != nil || len(got.Accounts) != 0 {
			t.Errorf("Tenants(unknown) = %+v, %v; want none", got, err)
		}
	})
	t.Run("Tenants reads back verified names and pre-validated numbers, and a seed of it makes the same", func(t *testing.T) {
		s := open(t)
		if err := s.ApplySeed(t.Context(), LifecycleSeed()); err != nil {
			t.Fatal(err)
		}
		got, err := s.Tenants(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		want := LifecycleSeed()
		acme := &want.Accounts[0]
		// Ordered by number; the store made the id the seed did not give.
		acme.PreValidated[0], acme.PreValidated[1] = acme.PreValidated[1], acme.PreValidated[0]
		if len(got.Accounts) == 2 && len(got.Accounts[0].PreValidated) == 2 {
			acme.PreValidated[1].ID = got.Accounts[0].PreValidated[1].ID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tenants (-want +got):\n%s", diff)
		}
		if id := acme.PreValidated[1].ID; !newID.MatchString(id) {
			t.Errorf("%s's id = %q; want a new one: 15 digits, no leading 0", PreAcme2, id)
		}

		// What an admin exports and seeds elsewhere.
		other := open(t)
		if err := other.ApplySeed(t.Context(), got); err != nil {
			t.Fatal(err)
		}
		again, err := other.Tenants(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("Tenants of a store seeded with Tenants (-first +second):\n%s", diff)
		}
	})
	t.Run("Tenants of an empty store", func(t *testing.T) {
		s := open(t)
		if got, err := s.Tenants(t.Context(), ""); err != nil || len(got.Accounts) != 0 {
			t.Errorf("Tenants = %+v, %v; want none", got, err)
		}
	})
	t.Run("DeleteKey: the key is gone at once", func(t *testing.T) {
		s := seededAdmin(t)
		if _, err := s.Principal(t.Context(), DevKey); err != nil { // cached, if the store caches
			t.Fatal(err)
		}
		if err := s.DeleteKey(t.Context(), DevKey); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Principal(t.Context(), DevKey); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("Principal after delete = %v, %v; want ErrNotFound", p, err)
		}
		if _, err := s.Principal(t.Context(), AcmeKey); err != nil {
			t.Errorf("another key: %v", err)
		}
		if err := s.DeleteKey(t.Context(), DevKey); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("DeleteKey again = %v; want ErrNotFound", err)
		}
	})
	t.Run("ApplySeed changes are seen at once", func(t *testing.T) {
		s := seededAdmin(t)
		if p, err := s.Principal(t.Context(), AcmeKey); err != nil || !p.Account.Subscribed {
			t.Fatalf("Principal = %v, %v", p, err)
		}
		seed := Fixture()
		seed.Accounts = seed.Accounts[:1]
		seed.Accounts[0].Subscribed = false
		seed.Accounts[0].AccessKeys[0].Status = camsd.KeyInactive
		if err := s.ApplySeed(t.Context(), seed); err != nil {
			t.Fatal(err)
		}
		p, err := s.Principal(t.Context(), AcmeKey)
		if err != nil || p.Account.Subscribed || p.Key.Status != camsd.KeyInactive {
			t.Errorf("Principal after the change = %+v, %v; want unsubscribed, inactive", p, err)
		}
	})
}
