package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/ram"
	"github.com/camsd/camsd/sts"
)

// reply is the success envelope of every action. AccessDeniedDetail is a string in CAMS
// success bodies (an object only in RAM error bodies).
type reply struct {
	RequestId          string //nolint:revive // wire name
	Code               string
	Message            string
	Data               any `json:",omitempty" xml:",omitempty"`
	AccessDeniedDetail string
	Success            bool                         `json:",omitempty" xml:",omitempty"`
	PhoneNumbers       *[]migration.PhoneNumberItem `json:",omitempty" xml:",omitempty"` // [] when none
}

// shape puts an action's result where its reply carries it.
func (r *reply) shape(data any) {
	switch d := data.(type) {
	case succeeded:
		r.Success = true
	case phoneNumbers:
		r.Success = true
		nums := []migration.PhoneNumberItem(d)
		if nums == nil {
			nums = []migration.PhoneNumberItem{}
		}
		r.PhoneNumbers = &nums
	default:
		r.Data = data
	}
}

// serveAPI runs one call through the checks in the documented order; the first failure
// answers.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := acs.NewRequestID()
	rec := &logRecord{RequestID: requestID, Retry: acs.ParseRetry(r.Header)}
	version := ""
	defer func() {
		d := time.Since(start)
		s.logRequest(r, rec, d)
		if s.Observer != nil {
			action := rec.Action
			if !KnownAction(version, action) {
				action = ""
			}
			s.Observer.ObserveRequest(action, rec.Code, rec.Retry.Attempt, d)
		}
	}()

	// The call's writes share group commits and are waited for once, before any reply: an
	// error reply too may follow a write (the nonce is recorded before flow control runs).
	ctx, durable := r.Context(), &camsd.Call{}
	defer durable.End()
	format := "JSON"
	fail := func(err error) {
		if werr := durable.Wait(); werr != nil {
			err = fmt.Errorf("make the call's writes durable: %w", werr)
		}
		durable.End()
		rec.Code = camsd.ErrorCode(err)
		if rec.Code == camsd.CodeInternalError {
			rec.Err = err
		}
		acs.WriteError(w, format, requestID, r.Host, err)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		fail(&camsd.Error{Code: camsd.CodeUnsupportedHTTPMethod})
		return
	}
	var body []byte // the official Go SDK sends none: net/http then gives NoBody
	if r.Body != http.NoBody {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			fail(camsd.Errorf(camsd.CodeInvalidParameter, "The request body cannot be read or exceeds %d bytes.", maxBody))
			return
		}
		body = b
	}
	req, err := acs.ParseRequest(r, body)
	if err != nil {
		fail(err)
		return
	}
	if req.Format != "" {
		format = req.Format
	}
	rec.Action, version = req.Action, req.Version
	if s.tracker != nil {
		// Running from here until it ends, its request read (a client that sends slowly
		// holds no writer up): the store's writers may wait a moment for its writes.
		s.tracker.Track(durable)
	}

	p, err := s.Auth.Authenticate(ctx, durable, req)
	if err != nil {
		fail(err)
		return
	}
	rec.Account, rec.AccessKeyID = p.Account.UID, p.Key.ID
	if req.Version == sts.Version {
		// STS is a product of its own: no CAMS subscription, and its RAM check is its own
		// (sts:AssumeRole on the role, then the role's trust policy).
		out, err := s.assumeRole(ctx, durable, p, req)
		if err == nil {
			err = durable.Wait()
		}
		if err != nil {
			fail(err)
			return
		}
		rec.Code = camsd.CodeOK
		durable.End()
		acs.WriteResult(w, format, req.Action, requestID, stsReply{RequestId: requestID, Credentials: out})
		return
	}
	if err := s.admit(ctx, durable, p, req.Action); err != nil {
		fail(err)
		return
	}
	if !p.Account.Subscribed {
		fail(&camsd.Error{Code: camsd.CodeProductUnsubscript})
		return
	}
	if err := s.authorize(p, req); err != nil {
		fail(err)
		return
	}
	// The first of the parameter checks, for every parameter the request carries whichever
	// the action: no store ever sees a value that is not UTF-8, holds NUL or is too long, so
	// that every store answers alike (PostgreSQL would refuse the text).
	if err := acs.CheckParams(req.Params); err != nil {
		fail(err)
		return
	}

	caller := migration.Caller{Principal: p, RequestID: requestID, AccessKeyID: p.Key.ID, Call: durable}
	data, err := actions[req.Action](s, ctx, caller, req.Params)
	if errors.Is(err, camsd.ErrNonceUsed) {
		// The store found the call's nonce recorded as it recorded the call's first change
		// (camsd.Call.Nonce): a replay that the fast first check no longer knew.
		err = &camsd.Error{Code: camsd.CodeSignatureNonceUsed}
	}
	if err != nil {
		fail(err)
		return
	}
	if err := durable.Wait(); err != nil {
		fail(err)
		return
	}
	rec.Code = camsd.CodeOK
	durable.End()
	out := reply{RequestId: requestID, Code: camsd.CodeOK, Message: "SUCCESS", AccessDeniedDetail: "None"}
	out.shape(data)
	acs.WriteResult(w, format, req.Action, requestID, out)
}

// stsReply is AssumeRole's reply: RequestId beside Credentials and AssumedRoleUser, without
// CAMS's Code and Message.
type stsReply struct {
	RequestId string //nolint:revive // wire name
	*sts.Credentials
}

// assumeRole runs STS's AssumeRole after flow control and the parameters' bytes check.
func (s *Server) assumeRole(ctx context.Context, call *camsd.Call, p *camsd.Principal, req *acs.Request) (*sts.Credentials, error) {
	if s.STS == nil {
		return nil, &camsd.Error{Code: camsd.CodeInvalidActionNotFound}
	}
	if err := s.admit(ctx, call, p, req.Action); err != nil {
		return nil, err
	}
	if err := acs.CheckParams(req.Params); err != nil {
		return nil, err
	}
	now := s.now()
	c := ram.Context{SourceIP: req.SourceIP, CurrentTime: now, SecureTransport: req.Secure, AccessID: p.Key.ID}
	return s.STS.AssumeRole(ctx, p, req.Params, c, now)
}

// admission is a call's flow-control key and limit: per account (shared by its keys and RAM
// users), per action; the account's qps or the server's.
func (s *Server) admission(p *camsd.Principal, action string) (string, int) {
	limit := s.QPS
	if p.Account.QPS > 0 {
		limit = p.Account.QPS
	}
	return p.Account.UID + "/" + action, limit
}

// admit applies flow control: the decision the nonce store made with the call's nonce, or
// the Limiter's, on the key and limit the Authenticator named for the call (admission).
// Calls refused here are not counted; every call admitted counts whatever happens next.
func (s *Server) admit(ctx context.Context, call *camsd.Call, p *camsd.Principal, action string) error {
	a := call.Admission
	if a == nil { // an Authenticator without the Admission hook
		key, limit := s.admission(p, action)
		a = &camsd.Admission{Key: key, Limit: limit}
	}
	d := a.Decision
	if !a.Decided {
		var err error
		if d, err = s.Limiter.Allow(ctx, a.Key, a.Limit); err != nil {
			return err
		}
	}
	if !d.Allowed {
		return &camsd.Error{Code: camsd.CodeSystemLimitControl, RetryAfter: d.RetryAfter}
	}
	return nil
}
