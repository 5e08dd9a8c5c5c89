package storetest

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// The additions of LifecycleSeed to Fixture.
const (
	Number3    = "8613800000003" // UNVERIFIED in AcmeSpace, with VerifiedName AcmeName
	AcmeName   = "Acme Support"
	EmptySpace = "cs-acme-empty" // acme's space without numbers

	PreAcme1  = "8613800001111" // pre-validated for acme, code PreCode1, id PreID1
	PreAcme2  = "8613800001112" // pre-validated for acme, code PreCode2, no id in the seed
	PreBeta   = "8613800002221" // pre-validated for beta, code PreCode1, id "5"
	PreCode1  = "123456"
	PreCode2  = "654321"
	PreID1    = "104996122399161"
	PreBetaID = "5"
)

// Numbers no seed holds, for tests that add them.
const (
	newNumberA = "8613800000000" // sorts before every number of Fixture
	newNumberB = "8613899999999" // and after
)

// LifecycleSeed returns Fixture with what the number lifecycle adds: a number with a verified
// name, a space without numbers, and pre-validated numbers of both accounts (listed out of
// order; PreAcme2 without an id).
func LifecycleSeed() *camsd.Seed {
	s := Fixture()
	acme, beta := &s.Accounts[0], &s.Accounts[1]
	acme.Spaces[0].PhoneNumbers = append(acme.Spaces[0].PhoneNumbers, camsd.PhoneNumber{
		CustSpaceID: AcmeSpace, Number: Number3, ID: "pn-acme-3", Status: camsd.StatusUnverified, VerifiedName: AcmeName,
	})
	acme.Spaces = append(acme.Spaces, camsd.SeedSpace{Space: camsd.Space{CustSpaceID: EmptySpace, UID: AcmeUID, Name: "Empty"}})
	acme.PreValidated = []camsd.PreValidatedNumber{
		{UID: AcmeUID, Number: PreAcme2, VerifyCode: PreCode2},
		{UID: AcmeUID, Number: PreAcme1, VerifyCode: PreCode1, ID: PreID1},
	}
	beta.PreValidated = []camsd.PreValidatedNumber{{UID: BetaUID, Number: PreBeta, VerifyCode: PreCode1, ID: PreBetaID}}
	return s
}

// lifecycleSeeded opens a store holding LifecycleSeed.
func lifecycleSeeded(t *testing.T, open func(t *testing.T) camsd.Store) camsd.Store {
	t.Helper()
	s := open(t)
	if err := s.ApplySeed(t.Context(), LifecycleSeed()); err != nil {
		t.Fatalf("ApplySeed: %v", err)
	}
	return s
}

// newID is what camsd.NewNumberID makes: 15 digits, no leading 0.
var newID = regexp.MustCompile(`^[1-9][0-9]{14}$`)

// appendNumber adds rec (its ID may be empty) through ChangeNumber and returns it as
// PhoneNumber reads it back.
func appendNumber(t *testing.T, s camsd.Store, rec camsd.PhoneNumber) camsd.PhoneNumber {
	t.Helper()
	change(t, s, rec.CustSpaceID, rec.Number, T0, func(tx *camsd.NumberTxn) error {
		tx.Records = append(tx.Records, rec)
		return nil
	})
	n, err := s.PhoneNumber(t.Context(), rec.CustSpaceID, rec.Number)
	if err != nil {
		t.Fatalf("PhoneNumber(%s, %s) after it was added: %v", rec.CustSpaceID, rec.Number, err)
	}
	return *n
}

// numbers runs Numbers and fails the test on an error.
func numbers(t *testing.T, s camsd.Store, space string) []camsd.PhoneNumber {
	t.Helper()
	got, err := s.Numbers(t.Context(), space)
	if err != nil {
		t.Fatalf("Numbers(%q): %v", space, err)
	}
	return got
}

func testNumbers(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("the space's numbers, ordered by number, as PhoneNumber reads them", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		appendNumber(t, s, camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: newNumberB, Status: camsd.StatusUnverified, InitiatedAt: T0})
		appendNumber(t, s, camsd.PhoneNumber{CustSpaceID: AcmeSpace, Number: newNumberA, Status: camsd.StatusMigrating, InitiatedAt: T0})
		got := numbers(t, s, AcmeSpace)
		var want []camsd.PhoneNumber
		for _, number := range []string{newNumberA, Number1, Number2, Number3, newNumberB} {
			n, err := s.PhoneNumber(t.Context(), AcmeSpace, number)
			if err != nil {
				t.Fatalf("PhoneNumber(%s): %v", number, err)
			}
			want = append(want, *n)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Numbers(acme) (-want +got):\n%s", diff)
		}
	})
	t.Run("only the space's: a number in two spaces is listed in each with its own record", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		want := []camsd.PhoneNumber{{CustSpaceID: BetaSpace, Number: Number1, ID: "pn-beta-1", Status: camsd.StatusMigrating}}
		if diff := cmp.Diff(want, numbers(t, s, BetaSpace)); diff != "" {
			t.Errorf("Numbers(beta) (-want +got):\n%s", diff)
		}
	})
	t.Run("a space without numbers, or none at all: an empty slice", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		for _, space := range []string{EmptySpace, "cs-nowhere", ""} {
			if got, err := s.Numbers(t.Context(), space); err != nil || got == nil || len(got) != 0 {
				t.Errorf("Numbers(%q) = %#v, %v; want an empty slice", space, got, err)
			}
		}
	})
	t.Run("a change is listed by the next read", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		numbers(t, s, AcmeSpace) // whatever a store remembers of it must not outlive the change
		if _, err := s.PhoneNumber(t.Context(), AcmeSpace, Number1); err != nil {
			t.Fatal(err)
		}
		change(t, s, AcmeSpace, Number1, T0, func(tx *camsd.NumberTxn) error {
			r := tx.Record(AcmeSpace)
			r.Status, r.VerifiedAt = camsd.StatusConnected, T0
			return nil
		})
		got := numbers(t, s, AcmeSpace)
		if len(got) != 3 || got[0].Number != Number1 || got[0].Status != camsd.StatusConnected || !got[0].VerifiedAt.Equal(T0) {
			t.Errorf("Numbers(acme) after the change = %+v; want %s first, CONNECTED, verified at T0", got, Number1)
		}
	})
	t.Run("every status is kept as given", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		for _, st := range camsd.NumberStatuses {
			change(t, s, AcmeSpace, Number3, T0, func(tx *camsd.NumberTxn) error {
				tx.Record(AcmeSpace).Status = st
				return nil
			})
			if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number3); err != nil || n.Status != st {
				t.Errorf("PhoneNumber after setting %s = %+v, %v", st, n, err)
			}
			if got := numbers(t, s, AcmeSpace); got[2].Status != st {
				t.Errorf("Numbers after setting %s lists %+v", st, got[2])
			}
		}
	})
}

func testVerifiedName(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("a seeded number's is read by PhoneNumber, Numbers and ChangeNumber", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number3); err != nil || n.VerifiedName != AcmeName || n.Status != camsd.StatusUnverified {
			t.Errorf("PhoneNumber(%s) = %+v, %v; want UNVERIFIED, named %q", Number3, n, err, AcmeName)
		}
		if got := numbers(t, s, AcmeSpace); len(got) != 3 || got[2].VerifiedName != AcmeName {
			t.Errorf("Numbers(acme) = %+v; want %s third, named %q", got, Number3, AcmeName)
		}
		txn := look(t, s, AcmeSpace, Number3, T0)
		if r := txn.Record(AcmeSpace); r == nil || r.VerifiedName != AcmeName {
			t.Errorf("ChangeNumber's record = %+v; want named %q", r, AcmeName)
		}
	})
	t.Run("an appended record's is written", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		n := appendNumber(t, s, camsd.PhoneNumber{CustSpaceID: BetaSpace, Number: newNumberA, Status: camsd.StatusUnverified,
			VerifiedName: "Beta 商店", InitiatedAt: T0})
		want := camsd.PhoneNumber{CustSpaceID: BetaSpace, Number: newNumberA, ID: n.ID, Status: camsd.StatusUnverified,
			VerifiedName: "Beta 商店", InitiatedAt: T0}
		if diff := cmp.Diff(want, n); diff != "" {
			t.Errorf("PhoneNumber of the added number (-want +got):\n%s", diff)
		}
		txn := look(t, s, BetaSpace, newNumberA, T0)
		if r := txn.Record(BetaSpace); r == nil || r.VerifiedName != "Beta 商店" {
			t.Errorf("ChangeNumber's record = %+v", r)
		}
	})
	t.Run("a change of the name alone is written, and seen by every read", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		if _, err := s.PhoneNumber(t.Context(), AcmeSpace, Number3); err != nil { // cached, if the store caches
			t.Fatal(err)
		}
		change(t, s, AcmeSpace, Number3, T0, func(tx *camsd.NumberTxn) error {
			tx.Record(AcmeSpace).VerifiedName = "Acme Sales"
			return nil
		})
		if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number3); err != nil || n.VerifiedName != "Acme Sales" {
			t.Errorf("PhoneNumber after the change = %+v, %v; want named Acme Sales", n, err)
		}
		if got := numbers(t, s, AcmeSpace); got[2].VerifiedName != "Acme Sales" {
			t.Errorf("Numbers after the change lists %+v", got[2])
		}
		change(t, s, AcmeSpace, Number3, T0, func(tx *camsd.NumberTxn) error {
			tx.Record(AcmeSpace).VerifiedName = ""
			return nil
		})
		if n, err := s.PhoneNumber(t.Context(), AcmeSpace, Number3); err != nil || n.VerifiedName != "" {
			t.Errorf("PhoneNumber after the name was cleared = %+v, %v", n, err)
		}
	})
	t.Run("ApplySeed never changes an existing number's", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		changed := LifecycleSeed()
		changed.Accounts[0].Spaces[0].PhoneNumbers[2].VerifiedName = "Renamed"
		changed.Accounts[0].Spaces[0].PhoneNumbers[1].VerifiedName = "Named at last"
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatal(err)
		}
		for number, want := range map[string]string{Number2: "", Number3: AcmeName} {
			if n, err := s.PhoneNumber(t.Context(), AcmeSpace, number); err != nil || n.VerifiedName != want {
				t.Errorf("PhoneNumber(%s) = %+v, %v; want named %q still", number, n, err, want)
			}
		}
	})
}

func testNewNumberIDs(t *testing.T, open func(t *testing.T) camsd.Store) {
	s := lifecycleSeeded(t, open)
	var ids []int64
	for _, number := range []string{newNumberA, newNumberB, "8613811110001"} {
		n := appendNumber(t, s, camsd.PhoneNumber{CustSpaceID: EmptySpace, Number: number, Status: camsd.StatusUnverified})
		if !newID.MatchString(n.ID) {
			t.Errorf("new id %q; want 15 digits, no leading 0", n.ID)
		}
		id, _ := strconv.ParseInt(n.ID, 10, 64)
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		if d := ids[i] - ids[i-1]; d >= -1 && d <= 1 {
			t.Errorf("new ids %d then %d: want ids that tell nothing of each other", ids[i-1], ids[i])
		}
	}
}

// preValidated runs PreValidated and fails the test on an error.
func preValidated(t *testing.T, s camsd.Store, uid string) []camsd.PreValidatedNumber {
	t.Helper()
	got, err := s.PreValidated(t.Context(), uid)
	if err != nil {
		t.Fatalf("PreValidated(%q): %v", uid, err)
	}
	return got
}

func testPreValidated(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("the account's, ordered by number, with a new id where the seed gave none", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		got := preValidated(t, s, AcmeUID)
		if len(got) == 2 && !newID.MatchString(got[1].ID) {
			t.Errorf("%s's id = %q; want a new one: 15 digits, no leading 0", PreAcme2, got[1].ID)
		}
		want := []camsd.PreValidatedNumber{
			{UID: AcmeUID, Number: PreAcme1, VerifyCode: PreCode1, ID: PreID1},
			{UID: AcmeUID, Number: PreAcme2, VerifyCode: PreCode2, ID: idOf(got, PreAcme2)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PreValidated(acme) (-want +got):\n%s", diff)
		}
		wantBeta := []camsd.PreValidatedNumber{{UID: BetaUID, Number: PreBeta, VerifyCode: PreCode1, ID: PreBetaID}}
		if diff := cmp.Diff(wantBeta, preValidated(t, s, BetaUID)); diff != "" {
			t.Errorf("PreValidated(beta) (-want +got):\n%s", diff)
		}
	})
	t.Run("an account without any: an empty slice", func(t *testing.T) {
		s := seeded(t, open)
		for _, uid := range []string{AcmeUID, "9999", ""} {
			if got, err := s.PreValidated(t.Context(), uid); err != nil || got == nil || len(got) != 0 {
				t.Errorf("PreValidated(%q) = %#v, %v; want an empty slice", uid, got, err)
			}
		}
	})
	t.Run("applying the seed again updates the code and keeps the id", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		made := idOf(preValidated(t, s, AcmeUID), PreAcme2)
		changed := LifecycleSeed()
		acme := changed.Accounts[0].PreValidated
		acme[0].VerifyCode = "111111"                                // PreAcme2, still without an id
		acme[1].VerifyCode, acme[1].ID = "222222", "104996122399999" // PreAcme1, another id
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatal(err)
		}
		want := []camsd.PreValidatedNumber{
			{UID: AcmeUID, Number: PreAcme1, VerifyCode: "222222", ID: PreID1},
			{UID: AcmeUID, Number: PreAcme2, VerifyCode: "111111", ID: made},
		}
		if diff := cmp.Diff(want, preValidated(t, s, AcmeUID)); diff != "" {
			t.Errorf("PreValidated(acme) after the second seed (-want +got):\n%s", diff)
		}
	})
	t.Run("a seed without them leaves them as they are", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		before := preValidated(t, s, AcmeUID)
		if err := s.ApplySeed(t.Context(), Fixture()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, preValidated(t, s, AcmeUID)); diff != "" {
			t.Errorf("PreValidated(acme) after a seed without them (-before +after):\n%s", diff)
		}
	})
	t.Run("a number listed under another account moves to it with its id", func(t *testing.T) {
		s := lifecycleSeeded(t, open)
		changed := LifecycleSeed()
		moved := changed.Accounts[1].PreValidated[0]
		moved.UID, moved.VerifyCode, moved.ID = AcmeUID, "333333", ""
		changed.Accounts[0].PreValidated = append(changed.Accounts[0].PreValidated, moved)
		changed.Accounts[1].PreValidated = nil
		if err := s.ApplySeed(t.Context(), changed); err != nil {
			t.Fatal(err)
		}
		got := preValidated(t, s, AcmeUID)
		if i := slices.IndexFunc(got, func(n camsd.PreValidatedNumber) bool { return n.Number == PreBeta }); i < 0 ||
			got[i] != (camsd.PreValidatedNumber{UID: AcmeUID, Number: PreBeta, VerifyCode: "333333", ID: PreBetaID}) {
			t.Errorf("PreValidated(acme) = %+v; want %s with code 333333 and id %s", got, PreBeta, PreBetaID)
		}
		if got := preValidated(t, s, BetaUID); len(got) != 0 {
			t.Errorf("PreValidated(beta) = %+v; want none", got)
		}
	})
}

// idOf returns the id of number in ns, or "".
func idOf(ns []camsd.PreValidatedNumber, number string) string {
	for _, n := range ns {
		if n.Number == number {
			return n.ID
		}
	}
	return ""
}
