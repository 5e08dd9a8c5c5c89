package storetest

import (
	"errors"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testApplySeed(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("stores what the seed declares", func(t *testing.T) {
		s := seeded(t, open)
		if diff := cmp.Diff(seedView(Fixture()), view(t, s, Fixture()), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("store after ApplySeed (-seed +store):\n%s", diff)
		}
	})
	t.Run("applying the same seed twice changes nothing", func(t *testing.T) {
		s := seeded(t, open)
		c := Code(AcmeSpace, Number1, "111111", T0)
		save(t, s, c, farFuture)
		before := view(t, s, Fixture())
		if err := s.ApplySeed(t.Context(), Fixture()); err != nil {
			t.Fatalf("second ApplySeed: %v", err)
		}
		if diff := cmp.Diff(before, view(t, s, Fixture())); diff != "" {
			t.Errorf("second ApplySeed changed the store (-before +after):\n%s", diff)
		}
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("updates accounts, keys and policies but never a number or a code", func(t *testing.T) {
		s := seeded(t, open)
		c := Code(AcmeSpace, Number1, "111111", T0)
		save(t, s, c, farFuture)

		changed := Fixture()
		acme := &changed.Accounts[0]
		acme.Name, acme.Subscribed, acme.QPS = "acme-renamed", false, 5
		acme.AccessKeys[0].Secret, acme.AccessKeys[0].Status = "acme-secret-2", camsd.KeyInactive
		acme.Users[0].Policies = []string{PolicySend}
		acme.Spaces[0].PhoneNumbers[0].Status = camsd.StatusMigrated
		acme.Spaces[0].PhoneNumbers[0].ID = "pn-changed"
		acme.Spaces[0].PhoneNumbers = append(acme.Spaces[0].PhoneNumbers, camsd.PhoneNumber{
			CustSpaceID: AcmeSpace, Number: "8613800000003", ID: "pn-acme-3", Status: camsd.StatusConnected,
		})
		beta := &changed.Accounts[1]
		beta.AccessKeys[0].Status = camsd.KeyActive
		beta.Users[0].Policies = []string{PolicyRead}
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatalf("ApplySeed(changed): %v", err)
		}

		want := seedView(changed)
		// The number keeps what the API made of it; the seed only creates numbers.
		want.Numbers[0] = camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: Number1, ID: "pn-acme-1", Status: camsd.StatusMigrating}
		if diff := cmp.Diff(want, view(t, s, changed), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("store after the changed seed (-want +got):\n%s", diff)
		}
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("reads made before a change see it at once after", func(t *testing.T) {
		s := seeded(t, open)
		changed := Fixture()
		newNumber := camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: "8613800000003", ID: "pn-acme-3", Status: camsd.StatusConnected}
		// Whatever a store remembers of these reads must not outlive the change.
		view(t, s, changed)
		if _, err := s.PhoneNumber(t.Context(), AcmeSpace, newNumber.Number); !errors.Is(err, camsd.ErrNotFound) {
			t.Fatalf("PhoneNumber(new number) before the change = %v; want ErrNotFound", err)
		}

		acme := &changed.Accounts[0]
		acme.Name, acme.QPS = "acme-renamed", 7
		acme.AccessKeys[0].Secret, acme.AccessKeys[0].Status = "acme-secret-2", camsd.KeyInactive
		acme.Users[0].Policies = []string{PolicySend}
		acme.Spaces[0].PhoneNumbers = append(acme.Spaces[0].PhoneNumbers, newNumber)
		changed.Accounts[1].Users[0].Policies = []string{PolicyRead}
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatalf("ApplySeed(changed): %v", err)
		}
		if diff := cmp.Diff(seedView(changed), view(t, s, changed), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("store after the change (-want +got):\n%s", diff)
		}
	})
	t.Run("a user's policy list is replaced, down to none", func(t *testing.T) {
		s := seeded(t, open)
		changed := Fixture()
		changed.Accounts[0].Users[0].Policies = nil
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatalf("ApplySeed: %v", err)
		}
		p, err := s.Principal(t.Context(), DevKey)
		if err != nil {
			t.Fatalf("Principal: %v", err)
		}
		if p.User == nil || len(p.User.Policies) != 0 {
			t.Errorf("Principal(dev).User = %+v; want user dev without policies", p.User)
		}
	})
	t.Run("a key moves to its new owner", func(t *testing.T) {
		s := seeded(t, open)
		changed := Fixture()
		acme := &changed.Accounts[0]
		dev := acme.Users[0].AccessKeys[0]
		dev.UserName = ""
		acme.AccessKeys = append(acme.AccessKeys, dev)
		acme.Users[0].AccessKeys = nil
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatalf("ApplySeed: %v", err)
		}
		p, err := s.Principal(t.Context(), DevKey)
		if err != nil {
			t.Fatalf("Principal: %v", err)
		}
		if p.Key.UserName != "" || p.User != nil {
			t.Errorf("Principal(dev key) = key user %q, user %+v; want the account's own key", p.Key.UserName, p.User)
		}
	})
	t.Run("a space can be added to an existing account", func(t *testing.T) {
		s := seeded(t, open)
		changed := Fixture()
		changed.Accounts[1].Spaces = append(changed.Accounts[1].Spaces, camsd.SeedSpace{
			Space: camsd.Space{CustSpaceID: "cs-beta-2", UID: BetaUID, Name: "Beta 2"},
			PhoneNumbers: []camsd.PhoneNumber{
				{CustSpaceID: "cs-beta-2", Number: Number2, ID: "pn-beta-2", Status: camsd.StatusMigrating},
			},
		})
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatalf("ApplySeed: %v", err)
		}
		if diff := cmp.Diff(seedView(changed), view(t, s, changed), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("store (-want +got):\n%s", diff)
		}
	})
}

// storeView is what a Store shows of the tenants a seed names.
type storeView struct {
	Principals []*camsd.Principal
	Spaces     []*camsd.Space
	Numbers    []camsd.PhoneNumber
}

// seedView is the storeView a store holding only seed must show.
func seedView(seed *camsd.Seed) storeView {
	var v storeView
	for _, a := range seed.Accounts {
		for _, k := range a.AccessKeys {
			k.UID, k.UserName = a.UID, ""
			v.Principals = append(v.Principals, &camsd.Principal{Key: k, Account: a.Account})
		}
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				k.UID, k.UserName = a.UID, u.Name
				v.Principals = append(v.Principals, &camsd.Principal{
					Key: k, Account: a.Account,
					User: &camsd.User{UID: a.UID, Name: u.Name, Policies: u.Policies},
				})
			}
		}
		for _, sp := range a.Spaces {
			space := sp.Space
			space.UID = a.UID
			v.Spaces = append(v.Spaces, &space)
			v.Numbers = append(v.Numbers, sp.PhoneNumbers...)
		}
	}
	return v
}

// view reads from s everything seed names.
func view(t *testing.T, s camsd.Store, seed *camsd.Seed) storeView {
	t.Helper()
	var v storeView
	want := seedView(seed)
	for _, p := range want.Principals {
		got, err := s.Principal(t.Context(), p.Key.ID)
		if err != nil {
			t.Fatalf("Principal(%q): %v", p.Key.ID, err)
		}
		v.Principals = append(v.Principals, got)
	}
	for _, sp := range want.Spaces {
		got, err := s.Space(t.Context(), sp.CustSpaceID)
		if err != nil {
			t.Fatalf("Space(%q): %v", sp.CustSpaceID, err)
		}
		v.Spaces = append(v.Spaces, got)
	}
	for _, n := range want.Numbers {
		got, err := s.PhoneNumber(t.Context(), n.CustSpaceID, n.Number)
		if errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("PhoneNumber(%q, %q): not found", n.CustSpaceID, n.Number)
			continue
		} else if err != nil {
			t.Fatalf("PhoneNumber(%q, %q): %v", n.CustSpaceID, n.Number, err)
		}
		v.Numbers = append(v.Numbers, *got)
	}
	return v
}
