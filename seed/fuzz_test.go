package seed

import (
	"slices"
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ram"
	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, that every error names the file, and that every
// seed it accepts keeps the promises the store relies on: ids unique where they must be,
// owners filled in, statuses and numbers valid, policies parseable, and the same result on
// a second read.
func FuzzParse(f *testing.F) {
	f.Add([]byte("accounts:\n  - uid: \"1\"\n"))
	// More seeds are in testdata/fuzz/FuzzParse.

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Errorf("Parse returned a seed and an error")
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		again, err := Parse("fuzz.yaml", data)
		if err != nil {
			t.Fatalf("second Parse: %v", err)
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Errorf("second Parse differs (-first +second):\n%s", diff)
		}
		checkSeed(t, s)
	})
}

func checkSeed(t *testing.T, s *camsd.Seed) {
	t.Helper()
	uids := make(map[string]bool)
	keys := make(map[string]bool)
	spaces := make(map[string]bool)
	active := make(map[string]bool)
	preNumbers := make(map[string]bool)
	preIDs := make(map[string]bool)
	checkKey := func(k camsd.AccessKey, uid, user string) {
		if keys[k.ID] || k.ID == "" || k.Secret == "" || k.UID != uid || k.UserName != user ||
			(k.Status != camsd.KeyActive && k.Status != camsd.KeyInactive) {
			t.Errorf("bad or duplicate key %+v of account %s user %q", k, uid, user)
		}
		keys[k.ID] = true
	}
	for _, a := range s.Accounts {
		if uids[a.UID] || !digits(a.UID) || a.QPS < 0 {
			t.Errorf("bad or duplicate account %+v", a.Account)
		}
		uids[a.UID] = true
		for _, k := range a.AccessKeys {
			checkKey(k, a.UID, "")
		}
		users := make(map[string]bool)
		for _, u := range a.Users {
			if users[u.Name] || u.Name == "" {
				t.Errorf("bad or duplicate user %q in account %s", u.Name, a.UID)
			}
			users[u.Name] = true
			for _, k := range u.AccessKeys {
				checkKey(k, a.UID, u.Name)
			}
			for _, p := range u.Policies {
				if _, err := ram.Parse([]byte(p)); err != nil {
					t.Errorf("accepted policy does not parse: %v", err)
				}
			}
		}
		for _, sp := range a.Spaces {
			if spaces[sp.CustSpaceID] || sp.CustSpaceID == "" || sp.UID != a.UID {
				t.Errorf("bad or duplicate space %+v", sp.Space)
			}
			spaces[sp.CustSpaceID] = true
			numbers := make(map[string]bool)
			for _, n := range sp.PhoneNumbers {
				if numbers[n.Number] || !camsd.ValidPhoneNumber(n.Number) || n.CustSpaceID != sp.CustSpaceID || !digits(n.ID) {
					t.Errorf("bad or duplicate number %+v", n)
				}
				numbers[n.Number] = true
				if checkVerifiedName(n.VerifiedName) != "" {
					t.Errorf("number %+v: bad verified name", n)
				}
				switch {
				case !slices.Contains(camsd.NumberStatuses, n.Status):
					t.Errorf("number %+v: bad status", n)
				case n.Status != camsd.StatusMigrated:
					if active[n.Number] {
						t.Errorf("number %s in two spaces in a status other than MIGRATED", n.Number)
					}
					active[n.Number] = true
				}
			}
		}
		for _, n := range a.PreValidated {
			if preNumbers[n.Number] || !camsd.ValidPhoneNumber(n.Number) || n.UID != a.UID ||
				len(n.VerifyCode) != 6 || !digits(n.VerifyCode) || (n.ID != "" && (preIDs[n.ID] || !digits(n.ID))) {
				t.Errorf("bad or duplicate pre-validated number %+v of account %s", n, a.UID)
			}
			preNumbers[n.Number] = true
			if n.ID != "" {
				preIDs[n.ID] = true
			}
		}
	}
}
