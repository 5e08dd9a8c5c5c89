package postgres

import (
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// TestSplit: a group takes at most one write of each thing; the others wait, in order.
func TestSplit(t *testing.T) {
	at := time.Unix(1, 0)
	nonce := func(key, n string) *write { return &write{kind: kindNonce, accessKeyID: key, nonce: n} }
	code := func(space, number, key, n string) *write {
		return &write{kind: kindCode, code: camsd.VerifyCode{CustSpaceID: space, PhoneNumber: number}, accessKeyID: key, nonce: n}
	}
	status := func(number string, sent time.Time) *write {
		return &write{kind: kindStatus, code: camsd.VerifyCode{CustSpaceID: "s", PhoneNumber: number, SentAt: sent}}
	}
	msg := &write{kind: kindMessage}
	batch := []*write{
		nonce("k", "1"),
		nonce("k", "2"),
		nonce("k", "1"),           // the same nonce: waits
		code("s", "n1", "", ""),   // a code without a nonce
		code("s", "n1", "", ""),   // the same number in the same space: waits
		code("t", "n1", "", ""),   // the same number in another space: goes
		code("s", "n2", "k", "2"), // its nonce is the group's already: waits
		code("s", "n3", "k", "3"),
		nonce("k", "3"), // the code before it carries it: waits
		status("n1", at),
		status("n1", at), // the same code's status: waits
		status("n1", at.Add(time.Second)),
		msg, msg, // messages are all different
	}
	group, rest := split(batch)
	want := []int{0, 1, 3, 5, 7, 9, 11, 12, 13}
	wantRest := []int{2, 4, 6, 8, 10}
	check := func(name string, got []*write, idx []int) {
		t.Helper()
		if len(got) != len(idx) {
			t.Fatalf("%s has %d writes, want %d", name, len(got), len(idx))
		}
		for i, j := range idx {
			if got[i] != batch[j] {
				t.Errorf("%s[%d] is not batch[%d]", name, i, j)
			}
		}
	}
	check("group", group, want)
	check("rest", rest, wantRest)
	if again, none := split(rest); len(again) != len(rest) || len(none) != 0 {
		t.Errorf("the rest split again: %d and %d, want all in one group", len(again), len(none))
	}
}
