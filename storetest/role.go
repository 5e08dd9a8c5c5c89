package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// Documents of the roles of RoleSeed.
const (
	TrustAcmeRoot = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1001:root"]}}]}`
	PolicyAll     = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}`
)

// RoleSeed returns Fixture with two RAM roles in acme, one of them with two policies (in
// that order), and one in beta.
func RoleSeed() *camsd.Seed {
	s := Fixture()
	s.Accounts[0].Roles = []camsd.Role{
		{UID: AcmeUID, Name: "operator", MaxSessionDuration: 3600, TrustPolicy: TrustAcmeRoot, Policies: []string{PolicyRead, PolicySend}},
		{UID: AcmeUID, Name: "auditor", MaxSessionDuration: 43200, TrustPolicy: TrustAcmeRoot},
	}
	s.Accounts[1].Roles = []camsd.Role{
		{UID: BetaUID, Name: "operator", MaxSessionDuration: 900, TrustPolicy: TrustAcmeRoot, Policies: []string{PolicyAll}},
	}
	return s
}

func testRole(t *testing.T, open func(t *testing.T) camsd.Store) {
	ctx := t.Context()
	s := open(t)
	if err := s.ApplySeed(ctx, RoleSeed()); err != nil {
		t.Fatalf("ApplySeed: %v", err)
	}
	t.Run("returns the role with its policies in order, and its account", func(t *testing.T) {
		a, r, err := s.Role(ctx, AcmeUID, "operator")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(RoleSeed().Accounts[0].Account, *a); diff != "" {
			t.Errorf("account (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(RoleSeed().Accounts[0].Roles[0], *r); diff != "" {
			t.Errorf("role (-want +got):\n%s", diff)
		}
	})
	t.Run("a role without policies has none", func(t *testing.T) {
		_, r, err := s.Role(ctx, AcmeUID, "auditor")
		if err != nil || len(r.Policies) != 0 || r.MaxSessionDuration != 43200 {
			t.Errorf("Role(auditor) = %+v, %v; want no policies, 43200 s", r, err)
		}
	})
	t.Run("roles are per account", func(t *testing.T) {
		a, r, err := s.Role(ctx, BetaUID, "operator")
		if err != nil || a.UID != BetaUID || a.Subscribed || r.MaxSessionDuration != 900 {
			t.Errorf("Role(beta, operator) = %+v, %+v, %v", a, r, err)
		}
	})
	for _, c := range []struct{ uid, name string }{
		{AcmeUID, "nobody"}, {"9999", "operator"}, {AcmeUID, "Operator"}, {AcmeUID, "op\x00"}, {"\xff", "operator"},
	} {
		if _, _, err := s.Role(ctx, c.uid, c.name); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("Role(%q, %q) = %v; want ErrNotFound", c.uid, c.name, err)
		}
	}
	t.Run("the caller owns what it reads", func(t *testing.T) {
		_, r, err := s.Role(ctx, AcmeUID, "operator")
		if err != nil {
			t.Fatal(err)
		}
		r.Policies[0] = "changed"
		_, again, err := s.Role(ctx, AcmeUID, "operator")
		if err != nil || again.Policies[0] != PolicyRead {
			t.Errorf("after changing a read, Role = %+v, %v", again, err)
		}
	})
	t.Run("a seed again updates the role and replaces its policies, at once", func(t *testing.T) {
		seed := RoleSeed()
		op := &seed.Accounts[0].Roles[0]
		op.MaxSessionDuration, op.TrustPolicy, op.Policies = 7200, TrustAcmeRoot+" ", []string{PolicySend}
		if err := s.ApplySeed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		_, r, err := s.Role(ctx, AcmeUID, "operator")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(*op, *r); diff != "" {
			t.Errorf("role after the second seed (-want +got):\n%s", diff)
		}
	})
	t.Run("STSSigningKey keeps the first key", func(t *testing.T) {
		first := bytes.Repeat([]byte{1}, 32)
		got, err := s.STSSigningKey(ctx, first)
		if err != nil || !bytes.Equal(got, first) {
			t.Fatalf("STSSigningKey(first) = %x, %v; want %x", got, err, first)
		}
		got, err = s.STSSigningKey(ctx, bytes.Repeat([]byte{2}, 32))
		if err != nil || !bytes.Equal(got, first) {
			t.Errorf("STSSigningKey(second) = %x, %v; want the first, %x", got, err, first)
		}
	})
}

// testTenantsRoles is RunAdmin's: Tenants reads roles back, and a seed of what it read makes
// the same roles.
func testTenantsRoles(t *testing.T, open func(t *testing.T) AdminStore) {
	s := open(t)
	if err := s.ApplySeed(t.Context(), RoleSeed()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tenants(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := RoleSeed()
	acme := &want.Accounts[0]
	acme.Roles[0], acme.Roles[1] = acme.Roles[1], acme.Roles[0] // ordered by name
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tenants (-want +got):\n%s", diff)
	}
	other := open(t)
	if err := other.ApplySeed(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	again, err := other.Tenants(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("Tenants of a seed of Tenants (-first +second):\n%s", diff)
	}
}
