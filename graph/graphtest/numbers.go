package graphtest

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
)

// number is a phone number in one WABA, as the platform keeps it.
type number struct {
	id, waba, phone string // phone: country code + national number
	verifiedName    string
	code            string // the last code sent, "" after it was verified
	codes           int    // codes sent
	verified        bool
	registered      bool
	registrations   int
	deregistrations int
	pin             string
}

// Number is a phone number the fake holds, for a test that starts where Graph already has
// it: Put it, then call its edges by ID.
type Number struct {
	ID, WABA     string
	Phone        string // country code + national number, digits only
	VerifiedName string
	Code         string // a code sent and not yet verified
	Verified     bool   // a code was verified: it may be registered
	Registered   bool
}

// Put adds n, or replaces the number with its ID.
func (s *Server) Put(n Number) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &number{id: n.ID, waba: n.WABA, phone: n.Phone, verifiedName: n.VerifiedName,
		code: n.Code, verified: n.Verified, registered: n.Registered}
	if old := s.byID[n.ID]; old != nil {
		*old = *rec
		return
	}
	s.byID[n.ID] = rec
	s.numbers = append(s.numbers, rec)
}

// addNumber is POST /{waba-id}/phone_numbers. A migration (migrate_phone_number=true) of a
// number the WABA has already starts its migration again; a new number needs its display
// name (verified_name), and adding it again answers its id again and changes nothing, as a
// request repeated after a lost answer should.
func (s *Server) addNumber(w http.ResponseWriter, waba string, form url.Values) {
	if !required(w, form, "cc", "phone_number") {
		return
	}
	migrate := form.Get("migrate_phone_number") == "true"
	if !migrate && !required(w, form, "verified_name") {
		return
	}
	phone := form.Get("cc") + form.Get("phone_number")
	n := s.inWaba(waba, phone)
	if n == nil {
		s.nextID++
		n = &number{id: fmt.Sprint(s.nextID), waba: waba, phone: phone}
		s.byID[n.id] = n
		s.numbers = append(s.numbers, n)
	} else if migrate {
		n.verified, n.code = false, ""
	} else {
		success(w, map[string]string{"id": n.id})
		return
	}
	if name := form.Get("verified_name"); name != "" {
		n.verifiedName = name
	}
	success(w, map[string]string{"id": n.id})
}

func (s *Server) inWaba(waba, phone string) *number {
	for _, n := range s.numbers {
		if n.waba == waba && n.phone == phone {
			return n
		}
	}
	return nil
}

func (s *Server) requestCode(w http.ResponseWriter, n *number, form url.Values) {
	if !required(w, form, "code_method", "language") {
		return
	}
	if m := form.Get("code_method"); m != "SMS" && m != "VOICE" {
		graphError(w, http.StatusBadRequest, 100, 0, false, "(#100) Param code_method must be one of {SMS, VOICE}")
		return
	}
	k, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		graphError(w, http.StatusInternalServerError, 1, 0, true, "An unknown error occurred")
		return
	}
	n.code = fmt.Sprintf("%06d", k.Int64())
	n.codes++
	success(w, map[string]bool{"success": true})
}

func (s *Server) verifyCode(w http.ResponseWriter, n *number, form url.Values) {
	if !required(w, form, "code") {
		return
	}
	if n.code == "" || form.Get("code") != n.code {
		graphError(w, http.StatusBadRequest, 136025, 2388097, false, "Verify code error")
		return
	}
	n.code, n.verified = "", true
	success(w, map[string]bool{"success": true})
}

func (s *Server) register(w http.ResponseWriter, n *number, form url.Values) {
	if !required(w, form, "messaging_product", "pin") {
		return
	}
	if !n.verified {
		graphError(w, http.StatusBadRequest, 100, 2388091, false, "The phone number is not eligible for registration")
		return
	}
	n.registrations++
	n.registered = true
	n.pin = form.Get("pin")
	success(w, map[string]bool{"success": true})
}

// deregister is POST /{phone-number-id}/deregister. A number that is not registered is
// deregistered too: Meta documents no error for it, and a success lets a caller whose first
// deregister was accepted but whose answer was lost agree with Graph when it asks again. A
// test that wants Graph's refusal injects it (Fail(Deregister, Fault{Code: 133010}), say).
func (s *Server) deregister(w http.ResponseWriter, n *number) {
	n.deregistrations++
	n.registered = false
	success(w, map[string]bool{"success": true})
}

// The accessors take phone as country code + national number. A number may be in several
// WABAs (it migrated): counts add up over them, the others read the one added last.

// ID is the phone-number id of phone, "" if it was never added.
func (s *Server) ID(phone string) (id string) {
	s.last(phone, func(n *number) { id = n.id })
	return id
}

// VerifiedName is phone's display name, "" if it was given none.
func (s *Server) VerifiedName(phone string) (name string) {
	s.last(phone, func(n *number) { name = n.verifiedName })
	return name
}

// Registered reports whether phone is registered now.
func (s *Server) Registered(phone string) (registered bool) {
	s.last(phone, func(n *number) { registered = n.registered })
	return registered
}

// LastCode is the last code sent to phone in any WABA, "" if none is waiting.
func (s *Server) LastCode(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.numbers) - 1; i >= 0; i-- {
		if n := s.numbers[i]; n.phone == phone && n.code != "" {
			return n.code
		}
	}
	return ""
}

// Registrations is how many times phone was registered.
func (s *Server) Registrations(phone string) int {
	return s.count(phone, func(n *number) int { return n.registrations })
}

// Deregistrations is how many times phone was deregistered.
func (s *Server) Deregistrations(phone string) int {
	return s.count(phone, func(n *number) int { return n.deregistrations })
}

// last calls read with the record of phone added last, if there is one.
func (s *Server) last(phone string, read func(*number)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.numbers) - 1; i >= 0; i-- {
		if n := s.numbers[i]; n.phone == phone {
			read(n)
			return
		}
	}
}

func (s *Server) count(phone string, get func(*number) int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, n := range s.numbers {
		if n.phone == phone {
			total += get(n)
		}
	}
	return total
}
