package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/ram"
)

// Store is what the admin API needs of a store.
type Store interface {
	camsd.Store
	camsd.TenantAdmin
}

// Server serves the admin API.
type Server struct {
	Store     Store
	Migration *migration.Service // adds numbers under the flow's rules
	Token     string             // required; an empty token refuses every request
	Rand      io.Reader          // for new AccessKeys; nil: crypto/rand
	Logger    *slog.Logger

	// mu makes each change's read-modify-write one step: ApplySeed replaces a user's policy
	// list, so two attaches at once must not both start from the same list.
	mu sync.Mutex
}

// Prefix is where the admin API's paths start.
const Prefix = "/admin/v1/"

// Handler returns the admin API's handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(r *http.Request) (int, any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if !s.authorized(r) {
				writeJSON(w, http.StatusUnauthorized, apiError{"Unauthorized", "A valid admin token (Authorization: Bearer …, CAMSD_ADMIN_TOKEN) is required."})
				return
			}
			status, v, err := h(r)
			if err != nil {
				status, v = s.failure(r, err)
			}
			writeJSON(w, status, v)
		})
	}
	route("GET "+Prefix+"accounts", s.listAccounts)
	route("POST "+Prefix+"accounts", s.createAccount)
	route("POST "+Prefix+"accounts/{uid}/subscribe", s.subscribe(true))
	route("POST "+Prefix+"accounts/{uid}/unsubscribe", s.subscribe(false))
	route("GET "+Prefix+"keys", s.listKeys)
	route("POST "+Prefix+"keys", s.createKey)
	route("POST "+Prefix+"keys/{id}/disable", s.setKeyStatus(camsd.KeyInactive))
	route("POST "+Prefix+"keys/{id}/enable", s.setKeyStatus(camsd.KeyActive))
	route("DELETE "+Prefix+"keys/{id}", s.deleteKey)
	route("GET "+Prefix+"users", s.listUsers)
	route("POST "+Prefix+"users", s.createUser)
	route("POST "+Prefix+"policies", s.attachPolicy)
	route("GET "+Prefix+"roles", s.listRoles)
	route("PUT "+Prefix+"roles", s.putRole)
	route("GET "+Prefix+"spaces", s.listSpaces)
	route("POST "+Prefix+"spaces", s.createSpace)
	route("POST "+Prefix+"spaces/{id}/whatsapp", s.setWhatsApp)
	route("GET "+Prefix+"numbers", s.listNumbers)
	route("POST "+Prefix+"numbers", s.addNumber)
	route("GET "+Prefix+"audit", s.listAudit)
	route("POST "+Prefix+"master-key/rotate", s.rotateMasterKey)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, apiError{"Unauthorized", "A valid admin token is required."})
			return
		}
		writeJSON(w, http.StatusNotFound, apiError{"NotFound", "No admin API at " + r.Method + " " + r.URL.Path + "."})
	})
	return mux
}

// authorized compares the bearer token in constant time (over digests, so that the length
// does not leak either).
func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.Token == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// apiError is the body of every error reply.
type apiError struct {
	Code    string
	Message string
}

func invalid(format string, args ...any) error {
	return camsd.Errorf(camsd.CodeInvalidParameter, format, args...)
}

func notFound(format string, args ...any) error {
	return &camsd.Error{Code: "NotFound", Message: fmt.Sprintf(format, args...)}
}

func exists(format string, args ...any) error {
	return &camsd.Error{Code: "AlreadyExists", Message: fmt.Sprintf(format, args...)}
}

func (s *Server) failure(r *http.Request, err error) (int, apiError) {
	var ce *camsd.Error
	switch {
	case errors.Is(err, camsd.ErrNotFound):
		return http.StatusNotFound, apiError{"NotFound", "Not found."}
	case errors.As(err, &ce) && ce.Code == "NotFound":
		return http.StatusNotFound, apiError{ce.Code, ce.Message}
	case errors.As(err, &ce) && strings.HasSuffix(ce.Code, "AlreadyExists"):
		return http.StatusConflict, apiError{ce.Code, ce.Message}
	case errors.As(err, &ce) && ce.Code != camsd.CodeInternalError:
		return http.StatusBadRequest, apiError{ce.Code, ce.Message}
	}
	if s.Logger != nil {
		s.Logger.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return http.StatusInternalServerError, apiError{camsd.CodeInternalError, "The admin request failed; see the server's log."}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // replies may hold a secret
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decode reads a JSON body into v, refusing unknown fields so that a typo is not ignored.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("The request body is not the expected JSON: %v.", err)
	}
	return nil
}

// Views: what the API returns. Field names follow Alibaba Cloud's (PascalCase).
type (
	Account struct {
		UID        string
		Name       string
		Subscribed bool
		QPS        int `json:",omitempty"`
	}
	Key struct {
		AccessKeyId     string //nolint:revive // wire name
		AccessKeySecret string `json:",omitempty"` //nolint:revive // only when created
		UID             string
		UserName        string `json:",omitempty"`
		Status          string `json:",omitempty"`
	}
	User struct {
		UID      string
		Name     string
		Policies []json.RawMessage `json:",omitempty"`
	}
	Space struct {
		UID         string
		CustSpaceId string //nolint:revive // wire name
		Name        string
		WabaId      string `json:",omitempty"` //nolint:revive // wire name
		Pin         string `json:",omitempty"` // taken, never returned
	}
	Number struct {
		CustSpaceId string //nolint:revive // wire name
		PhoneNumber string
		Id          string //nolint:revive // wire name
		Status      string
		// VerifiedName is the display name a number was added with; listed, not taken.
		VerifiedName string `json:",omitempty"`
	}
	Policy struct {
		UID      string
		UserName string
		Document json.RawMessage
	}
)

var (
	uidRE    = regexp.MustCompile(`^[0-9]{1,20}$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	spaceRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	digitsRE = regexp.MustCompile(`^[0-9]{1,32}$`)
	pinRE    = regexp.MustCompile(`^[0-9]{6}$`)
)

func checkUID(uid string) error {
	if !uidRE.MatchString(uid) {
		return invalid("UID %q is not an account id (1 to 20 digits).", uid)
	}
	return nil
}

// apply makes one account's change through ApplySeed, which creates what is missing and
// updates what exists, and keeps every cache right.
func (s *Server) apply(ctx context.Context, change camsd.SeedAccount) error {
	return s.Store.ApplySeed(ctx, &camsd.Seed{Accounts: []camsd.SeedAccount{change}})
}

// account returns the account with everything it owns, or NotFound.
func (s *Server) account(ctx context.Context, uid string) (*camsd.SeedAccount, error) {
	if err := checkUID(uid); err != nil {
		return nil, err
	}
	t, err := s.Store.Tenants(ctx, uid)
	if err != nil {
		return nil, err
	}
	if len(t.Accounts) == 0 {
		return nil, notFound("No account %s.", uid)
	}
	return &t.Accounts[0], nil
}

func (s *Server) listAccounts(r *http.Request) (int, any, error) {
	t, err := s.Store.Tenants(r.Context(), "")
	if err != nil {
		return 0, nil, err
	}
	out := []Account{}
	for _, a := range t.Accounts {
		out = append(out, Account{a.UID, a.Name, a.Subscribed, a.QPS})
	}
	return http.StatusOK, map[string]any{"Accounts": out}, nil
}

func (s *Server) createAccount(r *http.Request) (int, any, error) {
	var in Account
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := checkUID(in.UID); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.Name) == "" || in.QPS < 0 {
		return 0, nil, invalid("An account needs a Name, and QPS is not negative.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.account(r.Context(), in.UID); err == nil {
		return 0, nil, exists("Account %s exists.", in.UID)
	}
	a := camsd.Account{UID: in.UID, Name: in.Name, Subscribed: in.Subscribed, QPS: in.QPS}
	if err := s.apply(r.Context(), camsd.SeedAccount{Account: a}); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, in, nil
}

func (s *Server) subscribe(on bool) func(r *http.Request) (int, any, error) {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		a, err := s.account(r.Context(), r.PathValue("uid"))
		if err != nil {
			return 0, nil, err
		}
		acc := a.Account
		acc.Subscribed = on
		if err := s.apply(r.Context(), camsd.SeedAccount{Account: acc}); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, Account{acc.UID, acc.Name, acc.Subscribed, acc.QPS}, nil
	}
}

func (s *Server) listKeys(r *http.Request) (int, any, error) {
	t, err := s.tenants(r)
	if err != nil {
		return 0, nil, err
	}
	out := []Key{}
	view := func(k camsd.AccessKey) Key {
		return Key{AccessKeyId: k.ID, UID: k.UID, UserName: k.UserName, Status: string(k.Status)}
	}
	for _, a := range t.Accounts {
		for _, k := range a.AccessKeys {
			out = append(out, view(k))
		}
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				out = append(out, view(k))
			}
		}
	}
	return http.StatusOK, map[string]any{"Keys": out}, nil
}

// tenants reads the tenants of ?UID= (all when absent).
func (s *Server) tenants(r *http.Request) (*camsd.Seed, error) {
	uid := r.URL.Query().Get("UID")
	if uid != "" {
		if err := checkUID(uid); err != nil {
			return nil, err
		}
	}
	return s.Store.Tenants(r.Context(), uid)
}

// findUser returns the user of a, or NotFound.
func findUser(a *camsd.SeedAccount, name string) (*camsd.SeedUser, error) {
	for i := range a.Users {
		if a.Users[i].Name == name {
			return &a.Users[i], nil
		}
	}
	return nil, notFound("Account %s has no RAM user %q.", a.UID, name)
}

func (s *Server) createKey(r *http.Request) (int, any, error) {
	var in struct{ UID, UserName string }
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(r.Context(), in.UID)
	if err != nil {
		return 0, nil, err
	}
	id, secret, err := NewAccessKey(s.Rand)
	if err != nil {
		return 0, nil, err
	}
	k := camsd.AccessKey{ID: id, Secret: secret, UID: a.UID, UserName: in.UserName, Status: camsd.KeyActive}
	change := camsd.SeedAccount{Account: a.Account}
	if in.UserName == "" {
		change.AccessKeys = []camsd.AccessKey{k}
	} else {
		u, err := findUser(a, in.UserName)
		if err != nil {
			return 0, nil, err
		}
		// ApplySeed replaces a user's policies with the seed's: hand it the current ones.
		change.Users = []camsd.SeedUser{{Name: u.Name, Policies: u.Policies, AccessKeys: []camsd.AccessKey{k}}}
	}
	if err := s.apply(r.Context(), change); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, Key{AccessKeyId: id, AccessKeySecret: secret, UID: a.UID, UserName: in.UserName, Status: string(k.Status)}, nil
}

func (s *Server) setKeyStatus(st camsd.KeyStatus) func(r *http.Request) (int, any, error) {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		p, err := s.Store.Principal(r.Context(), r.PathValue("id"))
		if errors.Is(err, camsd.ErrNotFound) {
			return 0, nil, notFound("No AccessKey %s.", r.PathValue("id"))
		} else if err != nil {
			return 0, nil, err
		}
		k := p.Key
		k.Status = st
		change := camsd.SeedAccount{Account: p.Account}
		if p.User == nil {
			change.AccessKeys = []camsd.AccessKey{k}
		} else {
			change.Users = []camsd.SeedUser{{Name: p.User.Name, Policies: p.User.Policies, AccessKeys: []camsd.AccessKey{k}}}
		}
		if err := s.apply(r.Context(), change); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, Key{AccessKeyId: k.ID, UID: k.UID, UserName: k.UserName, Status: string(k.Status)}, nil
	}
}

func (s *Server) deleteKey(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if err := s.Store.DeleteKey(r.Context(), id); errors.Is(err, camsd.ErrNotFound) {
		return 0, nil, notFound("No AccessKey %s.", id)
	} else if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"Deleted": id}, nil
}

func (s *Server) listUsers(r *http.Request) (int, any, error) {
	t, err := s.tenants(r)
	if err != nil {
		return 0, nil, err
	}
	out := []User{}
	for _, a := range t.Accounts {
		for _, u := range a.Users {
			v := User{UID: a.UID, Name: u.Name}
			for _, p := range u.Policies {
				v.Policies = append(v.Policies, json.RawMessage(p))
			}
			out = append(out, v)
		}
	}
	return http.StatusOK, map[string]any{"Users": out}, nil
}

func (s *Server) createUser(r *http.Request) (int, any, error) {
	var in struct{ UID, Name string }
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if !nameRE.MatchString(in.Name) {
		return 0, nil, invalid("Name %q: a RAM user name is 1 to 64 letters, digits, '.', '_' and '-'.", in.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(r.Context(), in.UID)
	if err != nil {
		return 0, nil, err
	}
	if _, err := findUser(a, in.Name); err == nil {
		return 0, nil, exists("Account %s already has RAM user %q.", a.UID, in.Name)
	}
	change := camsd.SeedAccount{Account: a.Account, Users: []camsd.SeedUser{{Name: in.Name}}}
	if err := s.apply(r.Context(), change); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, User{UID: a.UID, Name: in.Name}, nil
}

func (s *Server) attachPolicy(r *http.Request) (int, any, error) {
	var in Policy
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Document) == 0 {
		return 0, nil, invalid("Document is missing: a RAM policy document (JSON).")
	}
	if _, err := ram.Parse(in.Document); err != nil {
		return 0, nil, invalid("The policy document is not valid: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(r.Context(), in.UID)
	if err != nil {
		return 0, nil, err
	}
	u, err := findUser(a, in.UserName)
	if err != nil {
		return 0, nil, err
	}
	doc := string(in.Document)
	change := camsd.SeedAccount{Account: a.Account, Users: []camsd.SeedUser{{Name: u.Name, Policies: append(u.Policies, doc)}}}
	if err := s.apply(r.Context(), change); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, in, nil
}

func (s *Server) listSpaces(r *http.Request) (int, any, error) {
	t, err := s.tenants(r)
	if err != nil {
		return 0, nil, err
	}
	out := []Space{}
	for _, a := range t.Accounts {
		for _, sp := range a.Spaces {
			out = append(out, Space{UID: a.UID, CustSpaceId: sp.CustSpaceID, Name: sp.Name, WabaId: sp.WabaID})
		}
	}
	return http.StatusOK, map[string]any{"Spaces": out}, nil
}

func (s *Server) createSpace(r *http.Request) (int, any, error) {
	var in Space
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if !spaceRE.MatchString(in.CustSpaceId) {
		return 0, nil, invalid("CustSpaceId %q: letters, digits, '.', '_' and '-', at most 64.", in.CustSpaceId)
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = in.CustSpaceId
	}
	if err := checkWhatsApp(in.WabaId, in.Pin); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(r.Context(), in.UID)
	if err != nil {
		return 0, nil, err
	}
	if sp, err := s.Store.Space(r.Context(), in.CustSpaceId); err == nil {
		return 0, nil, exists("Space %s exists (account %s).", sp.CustSpaceID, sp.UID)
	} else if !errors.Is(err, camsd.ErrNotFound) {
		return 0, nil, err
	}
	sp := camsd.SeedSpace{Space: camsd.Space{CustSpaceID: in.CustSpaceId, UID: a.UID, Name: in.Name, WabaID: in.WabaId, Pin: in.Pin}}
	change := camsd.SeedAccount{Account: a.Account, Spaces: []camsd.SeedSpace{sp}}
	if err := s.apply(r.Context(), change); err != nil {
		return 0, nil, err
	}
	in.Pin = ""
	return http.StatusCreated, in, nil
}

func checkWhatsApp(wabaID, pin string) error {
	if wabaID != "" && !digitsRE.MatchString(wabaID) {
		return invalid("WabaId %q: a WhatsApp Business Account id is digits.", wabaID)
	}
	if pin != "" && !pinRE.MatchString(pin) {
		return invalid("Pin: a registration PIN is 6 digits.")
	}
	return nil
}

// setWhatsApp sets the space's WABA id and registration PIN (either may be left out).
func (s *Server) setWhatsApp(r *http.Request) (int, any, error) {
	var in struct{ WabaId, Pin string } //nolint:revive // wire names
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := checkWhatsApp(in.WabaId, in.Pin); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, err := s.Store.Space(r.Context(), r.PathValue("id"))
	if errors.Is(err, camsd.ErrNotFound) {
		return 0, nil, notFound("No space %s.", r.PathValue("id"))
	} else if err != nil {
		return 0, nil, err
	}
	a, err := s.account(r.Context(), sp.UID)
	if err != nil {
		return 0, nil, err
	}
	sp.WabaID, sp.Pin = in.WabaId, in.Pin
	change := camsd.SeedAccount{Account: a.Account, Spaces: []camsd.SeedSpace{{Space: *sp}}}
	if err := s.apply(r.Context(), change); err != nil {
		return 0, nil, err
	}
	updated, err := s.Store.Space(r.Context(), sp.CustSpaceID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, Space{UID: updated.UID, CustSpaceId: updated.CustSpaceID, Name: updated.Name, WabaId: updated.WabaID}, nil
}

func (s *Server) listNumbers(r *http.Request) (int, any, error) {
	t, err := s.tenants(r)
	if err != nil {
		return 0, nil, err
	}
	only := r.URL.Query().Get("CustSpaceId")
	out := []Number{}
	for _, a := range t.Accounts {
		for _, sp := range a.Spaces {
			if only != "" && sp.CustSpaceID != only {
				continue
			}
			for _, n := range sp.PhoneNumbers {
				out = append(out, Number{CustSpaceId: n.CustSpaceID, PhoneNumber: n.Number, Id: n.ID, Status: string(n.Status), VerifiedName: n.VerifiedName})
			}
		}
	}
	return http.StatusOK, map[string]any{"PhoneNumbers": out}, nil
}

func (s *Server) addNumber(r *http.Request) (int, any, error) {
	var in Number
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Status == "" {
		in.Status = string(camsd.StatusMigrating)
	}
	sp, err := s.Store.Space(r.Context(), in.CustSpaceId)
	if errors.Is(err, camsd.ErrNotFound) {
		return 0, nil, notFound("No space %s.", in.CustSpaceId)
	} else if err != nil {
		return 0, nil, err
	}
	n, err := s.Migration.AddNumber(r.Context(), sp, in.PhoneNumber, in.Id, camsd.NumberStatus(strings.ToUpper(in.Status)))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, Number{CustSpaceId: n.CustSpaceID, PhoneNumber: n.Number, Id: n.ID, Status: string(n.Status)}, nil
}

func (s *Server) listAudit(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	aq := camsd.AuditQuery{PhoneNumber: q.Get("PhoneNumber"), UID: q.Get("UID")}
	if l := q.Get("Limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return 0, nil, invalid("Limit %q is not a count.", l)
		}
		aq.Limit = n
	}
	recs, err := s.Store.Audit(r.Context(), aq)
	if err != nil {
		return 0, nil, err
	}
	if recs == nil {
		recs = []camsd.AuditRecord{}
	}
	return http.StatusOK, map[string]any{"Records": recs}, nil
}
