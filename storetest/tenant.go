package storetest

import (
	"errors"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testEmpty(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := open(t)
	if empty, err := s.Empty(t.Context()); err != nil || !empty {
		t.Errorf("fresh store: Empty() = %v, %v; want true, nil", empty, err)
	}
	if err := s.ApplySeed(t.Context(), &camsd.Seed{}); err != nil {
		t.Fatalf("ApplySeed(empty seed): %v", err)
	}
	if empty, err := s.Empty(t.Context()); err != nil || !empty {
		t.Errorf("after an empty seed: Empty() = %v, %v; want true, nil", empty, err)
	}
	if err := s.ApplySeed(t.Context(), Fixture()); err != nil {
		t.Fatalf("ApplySeed: %v", err)
	}
	if empty, err := s.Empty(t.Context()); err != nil || empty {
		t.Errorf("seeded store: Empty() = %v, %v; want false, nil", empty, err)
	}
}

func testPing(t *testing.T, open func(t *testing.T) camsd.Store) {
	if err := open(t).Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testPrincipal(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := seeded(t, open)
	acme := camsd.Account{UID: AcmeUID, Name: "acme", Subscribed: true, QPS: 20}
	beta := camsd.Account{UID: BetaUID, Name: "beta"}
	for _, tc := range []struct {
		name string
		id   string
		want *camsd.Principal
	}{{
		name: "account key has no user",
		id:   AcmeKey,
		want: &camsd.Principal{
			Key:     camsd.AccessKey{ID: AcmeKey, Secret: "acme-secret", UID: AcmeUID, Status: camsd.KeyActive},
			Account: acme,
		},
	}, {
		name: "RAM user key has its user and policies in order",
		id:   DevKey,
		want: &camsd.Principal{
			Key:     camsd.AccessKey{ID: DevKey, Secret: "dev-secret", UID: AcmeUID, UserName: "dev", Status: camsd.KeyActive},
			Account: acme,
			User:    &camsd.User{UID: AcmeUID, Name: "dev", Policies: []string{PolicyRead, PolicySend}},
		},
	}, {
		name: "RAM user without policies",
		id:   OpsKey,
		want: &camsd.Principal{
			Key:     camsd.AccessKey{ID: OpsKey, Secret: "ops-secret", UID: BetaUID, UserName: "ops", Status: camsd.KeyActive},
			Account: beta,
			User:    &camsd.User{UID: BetaUID, Name: "ops"},
		},
	}, {
		name: "inactive key of an unsubscribed account is returned as stored",
		id:   BetaKey,
		want: &camsd.Principal{
			Key:     camsd.AccessKey{ID: BetaKey, Secret: "beta-secret", UID: BetaUID, Status: camsd.KeyInactive},
			Account: beta,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Principal(t.Context(), tc.id)
			if err != nil {
				t.Fatalf("Principal(%q): %v", tc.id, err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Principal(%q) (-want +got):\n%s", tc.id, diff)
			}
		})
	}
	t.Run("unknown key", func(t *testing.T) {
		if _, err := s.Principal(t.Context(), "LTAI5tNoSuchKey000001"); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("Principal(unknown) error = %v; want ErrNotFound", err)
		}
	})
}

func testSpace(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := seeded(t, open)
	got, err := s.Space(t.Context(), AcmeSpace)
	if err != nil {
		t.Fatalf("Space: %v", err)
	}
	want := &camsd.Space{CustSpaceID: AcmeSpace, UID: AcmeUID, Name: "Acme", WabaID: "104996122399160", Pin: "135790"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Space (-want +got):\n%s", diff)
	}
	t.Run("a seed sets the WABA id and PIN, and never blanks them", func(t *testing.T) {
		seed := Fixture()
		seed.Accounts[0].Spaces[0].WabaID, seed.Accounts[0].Spaces[0].Pin = "", "975310"
		if err := s.ApplySeed(t.Context(), seed); err != nil {
			t.Fatal(err)
		}
		got, err := s.Space(t.Context(), AcmeSpace)
		if err != nil || got.WabaID != "104996122399160" || got.Pin != "975310" {
			t.Errorf("Space = %+v, %v; want the WABA id kept and the new PIN", got, err)
		}
	})
	if _, err := s.Space(t.Context(), "cs-none"); !errors.Is(err, camsd.ErrNotFound) {
		t.Errorf("Space(unknown) error = %v; want ErrNotFound", err)
	}
}

func testPhoneNumber(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := seeded(t, open)
	for _, tc := range []struct {
		name          string
		space, number string
		want          *camsd.PhoneNumber // nil: ErrNotFound
	}{
		{"migrating", AcmeSpace, Number1, &camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: Number1, ID: "pn-acme-1", Status: camsd.StatusMigrating}},
		{"connected", AcmeSpace, Number2, &camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: Number2, ID: "pn-acme-2", Status: camsd.StatusConnected}},
		{"same number in another space is another row", BetaSpace, Number1, &camsd.PhoneNumber{CustSpaceID: BetaSpace, Number: Number1, ID: "pn-beta-1", Status: camsd.StatusMigrating}},
		{"number of another space", BetaSpace, Number2, nil},
		{"unknown number", AcmeSpace, "8613899999999", nil},
		{"unknown space", "cs-none", Number1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.PhoneNumber(t.Context(), tc.space, tc.number)
			if tc.want == nil {
				if !errors.Is(err, camsd.ErrNotFound) {
					t.Errorf("PhoneNumber(%q, %q) = %v, %v; want ErrNotFound", tc.space, tc.number, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PhoneNumber(%q, %q): %v", tc.space, tc.number, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PhoneNumber (-want +got):\n%s", diff)
			}
		})
	}
}

// testReadsAreCopies checks that changing what a read returned changes nothing in the store,
// whatever the store keeps in memory.
func testReadsAreCopies(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := seeded(t, open)
	ctx := t.Context()
	read := func() (*camsd.Principal, *camsd.Space, *camsd.PhoneNumber) {
		t.Helper()
		p, err := s.Principal(ctx, DevKey)
		if err != nil {
			t.Fatalf("Principal: %v", err)
		}
		sp, err := s.Space(ctx, AcmeSpace)
		if err != nil {
			t.Fatalf("Space: %v", err)
		}
		n, err := s.PhoneNumber(ctx, AcmeSpace, Number1)
		if err != nil {
			t.Fatalf("PhoneNumber: %v", err)
		}
		return p, sp, n
	}
	wantP, wantS, wantN := read()
	wantP = &camsd.Principal{Key: wantP.Key, Account: wantP.Account,
		User: &camsd.User{UID: wantP.User.UID, Name: wantP.User.Name, Policies: append([]string(nil), wantP.User.Policies...)}}
	ws, wn := *wantS, *wantN

	p, sp, n := read()
	p.Key.Secret, p.Account.Subscribed, p.User.Name = "changed", false, "changed"
	p.User.Policies[0] = "changed"
	p.User.Policies = append(p.User.Policies, "added")
	sp.Name, n.Status = "changed", camsd.StatusMigrated

	p, sp, n = read()
	if diff := cmp.Diff(wantP, p); diff != "" {
		t.Errorf("Principal after the caller changed its copy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&ws, sp); diff != "" {
		t.Errorf("Space after the caller changed its copy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&wn, n); diff != "" {
		t.Errorf("PhoneNumber after the caller changed its copy (-want +got):\n%s", diff)
	}
}
