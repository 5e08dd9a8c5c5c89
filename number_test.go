package camsd

import (
	"regexp"
	"testing"
)

func TestNewNumberID(t *testing.T) {
	form := regexp.MustCompile(`^[1-9][0-9]{14}$`)
	seen := make(map[string]bool)
	firsts := make(map[byte]bool)
	for range 1000 {
		id, err := NewNumberID()
		if err != nil {
			t.Fatal(err)
		}
		if !form.MatchString(id) {
			t.Fatalf("NewNumberID() = %q; want 15 digits, no leading 0", id)
		}
		if seen[id] {
			t.Fatalf("NewNumberID() = %q twice", id)
		}
		seen[id] = true
		firsts[id[0]] = true
	}
	// Every first digit is as likely as another: 1000 ids that all began alike would mean a
	// narrower range than 15 digits.
	if len(firsts) < 9 {
		t.Errorf("first digits seen: %d of 9", len(firsts))
	}
}
