package admin

import (
	"encoding/json"
	"net/http"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ram"
)

// Role is a RAM role as the admin API lists and takes it.
type Role struct {
	UID                string
	Name               string
	Arn                string `json:",omitempty"` // listed, not taken
	MaxSessionDuration int    `json:",omitempty"` // seconds, 900 to 43200; 0 when put: 3600
	TrustPolicy        json.RawMessage
	Policies           []json.RawMessage `json:",omitempty"`
}

func (s *Server) listRoles(r *http.Request) (int, any, error) {
	t, err := s.tenants(r)
	if err != nil {
		return 0, nil, err
	}
	out := []Role{}
	for _, a := range t.Accounts {
		for _, role := range a.Roles {
			v := Role{UID: a.UID, Name: role.Name, Arn: role.ARN(), MaxSessionDuration: role.MaxSessionDuration,
				TrustPolicy: json.RawMessage(role.TrustPolicy)}
			for _, p := range role.Policies {
				v.Policies = append(v.Policies, json.RawMessage(p))
			}
			out = append(out, v)
		}
	}
	return http.StatusOK, map[string]any{"Roles": out}, nil
}

// putRole creates the role or replaces it whole: its maximum session duration, its trust
// policy and its list of policies. Sessions issued before keep working until they expire,
// with the role's new policies from their next call.
func (s *Server) putRole(r *http.Request) (int, any, error) {
	var in Role
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if msg := camsd.RoleNameProblem(in.Name); msg != "" {
		return 0, nil, invalid("Name %s.", msg)
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = camsd.DefaultMaxSessionDuration
	}
	if msg := camsd.MaxSessionDurationProblem(in.MaxSessionDuration); msg != "" {
		return 0, nil, invalid("MaxSessionDuration %s.", msg)
	}
	if len(in.TrustPolicy) == 0 || string(in.TrustPolicy) == "null" {
		return 0, nil, invalid("TrustPolicy is missing: a RAM trust policy (JSON) that names who may assume the role.")
	}
	if _, err := ram.ParseTrust(in.TrustPolicy); err != nil {
		return 0, nil, invalid("The trust policy is not valid: %v", err)
	}
	role := camsd.Role{Name: in.Name, MaxSessionDuration: in.MaxSessionDuration, TrustPolicy: string(in.TrustPolicy)}
	for i, doc := range in.Policies {
		if _, err := ram.Parse(doc); err != nil {
			return 0, nil, invalid("Policies[%d] is not valid: %v", i, err)
		}
		role.Policies = append(role.Policies, string(doc))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(r.Context(), in.UID)
	if err != nil {
		return 0, nil, err
	}
	role.UID = a.UID
	if err := s.apply(r.Context(), camsd.SeedAccount{Account: a.Account, Roles: []camsd.Role{role}}); err != nil {
		return 0, nil, err
	}
	in.Arn = role.ARN()
	return http.StatusOK, in, nil
}
