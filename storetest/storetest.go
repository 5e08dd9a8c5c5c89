// Package storetest is the contract every camsd.Store, camsd.NonceStore and camsd.Outbox must
// pass, whatever database is behind it. An implementation's tests call Run, RunNonces and
// RunOutbox with a function that opens a fresh, empty store; each subtest gets its own.
//
// The contract is the one written on the interfaces in package camsd. Where it is silent the
// suite asks for the least surprising answer and says so in the subtest's name.
package storetest

import (
	"testing"

	"github.com/camsd/camsd"
)

// Run runs the Store contract against stores made by open. open returns a fresh, empty store
// and arranges (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open) })
	t.Run("Ping", func(t *testing.T) { testPing(t, open) })
	t.Run("Principal", func(t *testing.T) { testPrincipal(t, open) })
	t.Run("Space", func(t *testing.T) { testSpace(t, open) })
	t.Run("PhoneNumber", func(t *testing.T) { testPhoneNumber(t, open) })
	t.Run("LastCode", func(t *testing.T) { testLastCode(t, open) })
	t.Run("SaveCode", func(t *testing.T) { testSaveCode(t, open) })
	t.Run("SaveCodeMessage", func(t *testing.T) { testSaveCodeMessage(t, open) })
	t.Run("SetCodeStatus", func(t *testing.T) { testSetCodeStatus(t, open) })
	t.Run("ChangeNumber", func(t *testing.T) { testChangeNumber(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("ApplySeed", func(t *testing.T) { testApplySeed(t, open) })
	t.Run("Numbers", func(t *testing.T) { testNumbers(t, open) })
	t.Run("VerifiedName", func(t *testing.T) { testVerifiedName(t, open) })
	t.Run("new number ids are 15 random digits", func(t *testing.T) { testNewNumberIDs(t, open) })
	t.Run("PreValidated", func(t *testing.T) { testPreValidated(t, open) })
	t.Run("Role", func(t *testing.T) { testRole(t, open) })
	t.Run("the caller owns what it reads", func(t *testing.T) { testReadsAreCopies(t, open) })
	t.Run("Durability", func(t *testing.T) { testDurability(t, open) })
	t.Run("bad bytes are not found", func(t *testing.T) { testBadBytes(t, open) })
}

// seeded opens a store holding Fixture.
func seeded(t *testing.T, open func(t *testing.T) camsd.Store) camsd.Store {
	t.Helper()
	s := open(t)
	if err := s.ApplySeed(t.Context(), Fixture()); err != nil {
		t.Fatalf("ApplySeed: %v", err)
	}
	return s
}
