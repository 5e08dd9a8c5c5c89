package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load of `camsd bench`: closed-loop clients, each sticking to its own share of the
// accounts, that keep every account's calls of each action within the account's flow-control
// limit (pacer), so that the calls measured are mostly admitted; optionally some of them walk
// the whole migration flow per number (flowWorker) while the rest send codes (hotWorker).

// The actions the bench calls; each has its own limit per account, so its own pacer.
const (
	actInitiate = iota
	actCode
	actVerify
	actStatus
	nActions
)

var benchActionNames = [nActions]string{"CreateChatappMigrationInitiate", "GetMigrationVerifyCode", "ChatappMigrationVerified", "GetPhoneNumberVerificationStatus"}

// paceMargin is how much more than a second a pacer keeps between a call and the one limit
// calls later: the server decides on its wall clock, the client on its monotonic one.
const paceMargin = time.Millisecond

// pacer keeps the calls that clients send of one action on one account within limit per
// rolling second, as camsd's flow control counts them: a call at t is admitted iff fewer
// than limit calls were admitted in (t-1s, t]. A call may be sent when fewer than limit calls
// are in flight or were answered in the last second: the server admitted each of them before
// it answered, and admits the new one after it is sent, so it never finds limit admitted
// calls in the second before (with clocks that agree, as on one machine). A nil pacer lets
// every call go.
type pacer struct {
	mu       sync.Mutex
	limit    int
	done     []time.Time // answers in the last second (and paceMargin), oldest first
	inflight int
}

// acquire reserves a call at now, or says when to ask again.
func (p *pacer) acquire(now time.Time) (ok bool, retry time.Time) {
	if p == nil {
		return true, time.Time{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cut := now.Add(-time.Second - paceMargin)
	i := 0
	for i < len(p.done) && !p.done[i].After(cut) {
		i++
	}
	if i > 0 {
		p.done = append(p.done[:0], p.done[i:]...)
	}
	if len(p.done)+p.inflight < p.limit {
		p.inflight++
		return true, time.Time{}
	}
	if len(p.done) > 0 {
		return false, p.done[0].Add(time.Second + paceMargin)
	}
	return false, now.Add(time.Millisecond) // all in flight: one is answered soon
}

// release ends a reservation: answered at at, or not sent when at is zero.
func (p *pacer) release(at time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if !at.IsZero() {
		p.done = append(p.done, at)
	}
}

// pacerSet is a pacer per account per action; nil paces nothing.
type pacerSet [][nActions]*pacer

func newPacerSet(accounts, limit int) pacerSet {
	ps := make(pacerSet, accounts)
	for i := range ps {
		for a := range ps[i] {
			ps[i][a] = &pacer{limit: limit}
		}
	}
	return ps
}

func (ps pacerSet) get(account, action int) *pacer {
	if ps == nil {
		return nil
	}
	return ps[account][action]
}

// hotQueue is an account's presigned GetMigrationVerifyCode calls for one round.
type hotQueue struct {
	account int // index into the bench's accounts (its pacers)
	calls   []signedCall
	next    atomic.Int64
}

// flowSpec is the flow clients of a round and the accounts they walk numbers in.
type flowSpec struct {
	workers   int
	accounts  []int // indexes into env.accounts, none of them the hot path's
	env       *benchEnv
	signature string
}

// roundSpec is one round against one server.
type roundSpec struct {
	bases      []string // the replicas; the flow's call i goes to bases[i mod len]
	hot        []*hotQueue
	hotWorkers int
	flow       *flowSpec // nil: no flow clients
	pacers     pacerSet
	budget     int           // API calls in the round, the flow's included
	timeCap    time.Duration // the round stops sending when it is over
	wantStatus int           // what each hot-path call answers
	procs      []string      // other processes whose CPU is measured
}

// roundResult is what one round measured.
type roundResult struct {
	Calls     int // API calls sent, the flow's included (the outbox reads are not API calls)
	HotCalls  int
	Failed    int // hot-path calls that did not answer wantStatus
	Elapsed   time.Duration
	Capped    bool            // the time cap ended the round
	Latencies []time.Duration // the hot path's, sorted
	Codes     map[string]int  // replies by Code ("" when there was none), the flow's included
	CPU       time.Duration   // this process: camsd and the load generator
	Procs     map[string]time.Duration
	Flow      *flowResult
}

func (r roundResult) RPS() float64 { return float64(r.Calls) / r.Elapsed.Seconds() }

func (r roundResult) CPUPerCall() time.Duration { return perCall(r.CPU, r.Calls) }

// ProcPerCall is the CPU time per call of the processes named name; ok is false when it was
// not measured.
func (r roundResult) ProcPerCall(name string) (time.Duration, bool) {
	d, ok := r.Procs[name]
	return perCall(d, r.Calls), ok
}

func (r roundResult) Percentile(p float64) time.Duration { return percentile(r.Latencies, p) }

func perCall(d time.Duration, calls int) time.Duration {
	if calls == 0 {
		return 0
	}
	return d / time.Duration(calls)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

// Share is the fraction of replies with the Code code.
func (r roundResult) Share(code string) float64 {
	total := 0
	for _, n := range r.Codes {
		total += n
	}
	if total == 0 {
		return 0
	}
	return float64(r.Codes[code]) / float64(total)
}

// CodeLine is the share of replies by Code: OK, System.LimitControl, the others together,
// then the commonest others.
func (r roundResult) CodeLine() string {
	const limit = "System.LimitControl"
	ok, lc := r.Share("OK"), r.Share(limit)
	s := fmt.Sprintf("codes OK %.1f%% LimitControl %.1f%% other %.1f%%", 100*ok, 100*lc, 100*(1-ok-lc))
	if ok+lc == 0 && len(r.Codes) == 0 {
		return s
	}
	type kv struct {
		code string
		n    int
	}
	var others []kv
	for c, n := range r.Codes {
		if c != "OK" && c != limit {
			if c == "" {
				c = "(none)"
			}
			others = append(others, kv{c, n})
		}
	}
	sort.Slice(others, func(i, j int) bool {
		return others[i].n > others[j].n || others[i].n == others[j].n && others[i].code < others[j].code
	})
	if len(others) > 3 {
		others = others[:3]
	}
	for i, o := range others {
		if i == 0 {
			s += " ("
		} else {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", o.code, o.n)
		if i == len(others)-1 {
			s += ")"
		}
	}
	return s
}

// flowSteps are the steps of the migration flow a flow client walks per number.
var flowSteps = []string{"initiate", "code", "outbox", "verify", "status"}

// flowResult is what the flow clients measured in a round.
type flowResult struct {
	Done       int               // flows that walked every step with OK replies
	Failed     int               // flows a step refused
	Unfinished int               // flows cut short by the end of the round
	Steps      [][]time.Duration // per step, of the flows done, sorted
	Total      []time.Duration   // each flow's steps together (waits for the limit not included), sorted
	ToVerify   []time.Duration   // each flow's steps from initiate through verify together, sorted
	FailedAt   map[string]int    // "step Code" of the failed flows
}

// Line is the flow's part of a round's report.
func (f *flowResult) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flow  %d done, %d failed, %d cut by the round's end;", f.Done, f.Failed, f.Unfinished)
	for i, name := range flowSteps {
		fmt.Fprintf(&b, " %s p50 %v p99 %v,", name, percentile(f.Steps[i], 0.5).Round(time.Microsecond), percentile(f.Steps[i], 0.99).Round(time.Microsecond))
	}
	fmt.Fprintf(&b, " initiate to verify p50 %v p99 %v,", percentile(f.ToVerify, 0.5).Round(time.Microsecond), percentile(f.ToVerify, 0.99).Round(time.Microsecond))
	fmt.Fprintf(&b, " whole flow p50 %v p99 %v", percentile(f.Total, 0.5).Round(time.Microsecond), percentile(f.Total, 0.99).Round(time.Microsecond))
	if len(f.FailedAt) > 0 {
		keys := make([]string, 0, len(f.FailedAt))
		for k := range f.FailedAt {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("; failed at")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s x%d", k, f.FailedAt[k])
		}
	}
	return b.String()
}

// round is one round running.
type round struct {
	spec     roundSpec
	client   *http.Client
	deadline time.Time
	budget   atomic.Int64 // API calls started
	flowSeq  atomic.Int64 // the flow's calls, for the round-robin over replicas
	capped   atomic.Bool
}

// workerStats is what one client measured; they are merged when the round ends.
type workerStats struct {
	calls, hotCalls, failed int
	ok                      int // replies with Code OK (kept apart from codes: no map write per call)
	codes                   map[string]int
	lat                     []time.Duration
	flow                    flowStats
	buf                     bytes.Buffer
}

type flowStats struct {
	done, failed, unfinished int
	steps                    [][]time.Duration
	totals, toVerify         []time.Duration
	failedAt                 map[string]int
}

func (w *workerStats) code(c []byte) {
	if string(c) == "OK" {
		w.ok++
		return
	}
	if w.codes == nil {
		w.codes = map[string]int{}
	}
	w.codes[string(c)]++
}

// runRound runs spec's clients until the round's calls are sent or its time is up, and
// measures the CPU time of this process and of spec.procs around it.
func runRound(ctx context.Context, client *http.Client, spec roundSpec) roundResult {
	r := &round{spec: spec, client: client}
	nw := spec.hotWorkers
	if spec.flow != nil {
		nw += spec.flow.workers
	}
	stats := make([]*workerStats, nw)
	for i := range stats {
		stats[i] = &workerStats{}
	}
	var wg sync.WaitGroup
	procs0, procsOK := procSnapshot(spec.procs...)
	cpu0, start := processCPU(), time.Now()
	r.deadline = start.Add(spec.timeCap)
	for w := 0; w < spec.hotWorkers; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.hotWorker(ctx, w, stats[w]) }()
	}
	if spec.flow != nil {
		for w := 0; w < spec.flow.workers; w++ {
			wg.Add(1)
			go func() { defer wg.Done(); r.flowWorker(ctx, w, stats[spec.hotWorkers+w]) }()
		}
	}
	wg.Wait()
	res := roundResult{Elapsed: time.Since(start), CPU: processCPU() - cpu0, Capped: r.capped.Load(), Codes: map[string]int{}}
	if procsOK && len(spec.procs) > 0 {
		if procs1, ok := procSnapshot(spec.procs...); ok {
			res.Procs = map[string]time.Duration{}
			for _, name := range spec.procs {
				res.Procs[name] = procDelta(procs0[name], procs1[name])
			}
		}
	}
	if spec.flow != nil {
		res.Flow = &flowResult{Steps: make([][]time.Duration, len(flowSteps)), FailedAt: map[string]int{}}
	}
	for _, s := range stats {
		res.Calls += s.calls
		res.HotCalls += s.hotCalls
		res.Failed += s.failed
		res.Latencies = append(res.Latencies, s.lat...)
		if s.ok > 0 {
			res.Codes["OK"] += s.ok
		}
		for c, n := range s.codes {
			res.Codes[c] += n
		}
		if f := res.Flow; f != nil {
			f.Done += s.flow.done
			f.Failed += s.flow.failed
			f.Unfinished += s.flow.unfinished
			f.Total = append(f.Total, s.flow.totals...)
			f.ToVerify = append(f.ToVerify, s.flow.toVerify...)
			for i := range s.flow.steps {
				f.Steps[i] = append(f.Steps[i], s.flow.steps[i]...)
			}
			for k, n := range s.flow.failedAt {
				f.FailedAt[k] += n
			}
		}
	}
	slices.Sort(res.Latencies)
	if f := res.Flow; f != nil {
		slices.Sort(f.Total)
		slices.Sort(f.ToVerify)
		for i := range f.Steps {
			slices.Sort(f.Steps[i])
		}
	}
	return res
}

// procDelta is the CPU time processes used between two snapshots: of those alive at the
// second, what they used since the first (all of it when they started in between). A process
// that ended in between takes its time with it.
func procDelta(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

// take reserves one of the round's API calls, false when they are all taken or time is up.
func (r *round) take() bool {
	if time.Now().After(r.deadline) {
		r.capped.Store(true)
		return false
	}
	return r.budget.Add(1) <= int64(r.spec.budget)
}

// sleepUntil waits until t or the round's deadline, false when the deadline or ctx came.
func (r *round) sleepUntil(ctx context.Context, t time.Time) bool {
	if t.After(r.deadline) {
		t = r.deadline
	}
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
	}
	if !time.Now().Before(r.deadline) {
		r.capped.Store(true)
		return false
	}
	return true
}

// spread is worker w's share of m accounts among n workers: every n-th from w when there are
// at least as many accounts as workers, else the one account w mod m (shared).
func spread(w, n, m int) []int {
	if m >= n {
		var out []int
		for j := w; j < m; j += n {
			out = append(out, j)
		}
		return out
	}
	return []int{w % m}
}

// hotWorker sends the presigned GetMigrationVerifyCode calls of its accounts in turn, one at
// a time, each when the account's pacer lets it.
func (r *round) hotWorker(ctx context.Context, w int, st *workerStats) {
	queues := spread(w, r.spec.hotWorkers, len(r.spec.hot))
	cur := 0
	for len(queues) > 0 && ctx.Err() == nil {
		now := time.Now()
		picked, retry := -1, time.Time{}
		for t := range queues {
			k := (cur + t) % len(queues)
			q := r.spec.hot[queues[k]]
			ok, at := r.spec.pacers.get(q.account, actCode).acquire(now)
			if ok {
				picked = k
				break
			}
			if retry.IsZero() || at.Before(retry) {
				retry = at
			}
		}
		if picked < 0 {
			if !r.sleepUntil(ctx, retry) {
				return
			}
			continue
		}
		q := r.spec.hot[queues[picked]]
		p := r.spec.pacers.get(q.account, actCode)
		i := int(q.next.Add(1)) - 1
		if i >= len(q.calls) {
			p.release(time.Time{})
			queues = slices.Delete(queues, picked, picked+1)
			cur = picked
			continue
		}
		if !r.take() {
			p.release(time.Time{})
			return
		}
		cur = picked + 1
		t0 := time.Now()
		status, code := sendCall(ctx, r.client, q.calls[i], &st.buf)
		t1 := time.Now()
		p.release(t1)
		st.calls++
		st.hotCalls++
		st.lat = append(st.lat, t1.Sub(t0))
		if status != r.spec.wantStatus {
			st.failed++
		}
		st.code(code)
	}
}

// sendCall sends c and returns the HTTP status (0 when there was no reply) and the reply's Code.
// The Code is read from the body as it is, not decoded: camsd's replies are compact JSON
// whose first "Code" is the envelope's. It stays valid until buf is used again.
func sendCall(ctx context.Context, client *http.Client, c signedCall, buf *bytes.Buffer) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, nil)
	if err != nil {
		return 0, nil
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, replyCode(buf.Bytes())
}

var codeField = []byte(`"Code":"`)

func replyCode(b []byte) []byte {
	i := bytes.Index(b, codeField)
	if i < 0 {
		return nil
	}
	b = b[i+len(codeField):]
	if j := bytes.IndexByte(b, '"'); j >= 0 {
		return b[:j]
	}
	return nil
}

// flowWorker walks numbers through the migration flow, in its accounts in turn: initiate a
// new number, ask for a code, read it from the simulator's outbox, verify it, ask the status.
// Each call is signed when it is sent (the verify call carries the code just read).
func (r *round) flowWorker(ctx context.Context, w int, st *workerStats) {
	f := r.spec.flow
	accts := spread(w, f.workers, len(f.accounts))
	st.flow.steps = make([][]time.Duration, len(flowSteps))
	for n := 0; ctx.Err() == nil; n++ {
		ai := f.accounts[accts[n%len(accts)]]
		a := f.env.accounts[ai]
		seq := a.flows.Add(1) - 1
		// A number of its own per account and flow, 86 15xxxxxxxxx (the hot path's are
		// 86 1390xxxxxxx): walking it again in a later run finds it MIGRATING in the same
		// space, which the flow allows.
		mobile := fmt.Sprintf("15%09d", (int64(ai)*100_000+seq%100_000)%1_000_000_000)
		number := "86" + mobile
		key := a.keys[int(seq)%len(a.keys)]
		at := map[string]string{"CustSpaceId": a.space, "PhoneNumber": number}
		var lat [5]time.Duration
		step := func(i, action int, params map[string]string) (done bool) {
			code, d, sent := r.flowCall(ctx, st, ai, key.ID, key.Secret, action, params)
			if !sent {
				st.flow.unfinished++
				return false
			}
			lat[i] = d
			if code != "OK" {
				st.flow.failed++
				if st.flow.failedAt == nil {
					st.flow.failedAt = map[string]int{}
				}
				if code == "" {
					code = "(none)"
				}
				st.flow.failedAt[flowSteps[i]+" "+code]++
				return false
			}
			return true
		}
		if !step(0, actInitiate, map[string]string{"CustSpaceId": a.space, "CountryCode": "86", "MobileNumber": mobile}) ||
			!step(1, actCode, withParams(at, "Locale", "en_US", "Method", "sms")) {
			if ctx.Err() != nil || !time.Now().Before(r.deadline) || r.budget.Load() >= int64(r.spec.budget) {
				return
			}
			continue
		}
		t0 := time.Now()
		code, err := r.outboxCode(ctx, number)
		lat[2] = time.Since(t0)
		if err != nil {
			st.flow.failed++
			if st.flow.failedAt == nil {
				st.flow.failedAt = map[string]int{}
			}
			st.flow.failedAt["outbox "+err.Error()]++
			continue
		}
		if !step(3, actVerify, withParams(at, "VerifyCode", code)) || !step(4, actStatus, at) {
			if ctx.Err() != nil || !time.Now().Before(r.deadline) || r.budget.Load() >= int64(r.spec.budget) {
				return
			}
			continue
		}
		st.flow.done++
		var total time.Duration
		for i, d := range lat {
			st.flow.steps[i] = append(st.flow.steps[i], d)
			total += d
		}
		st.flow.totals = append(st.flow.totals, total)
		st.flow.toVerify = append(st.flow.toVerify, total-lat[4])
	}
}

// flowCall waits for the account's pacer, signs the call and sends it to the next replica.
// sent is false when the round ended first.
func (r *round) flowCall(ctx context.Context, st *workerStats, account int, keyID, secret string, action int, params map[string]string) (code string, lat time.Duration, sent bool) {
	p := r.spec.pacers.get(account, action)
	for {
		ok, retry := p.acquire(time.Now())
		if ok {
			break
		}
		if !r.sleepUntil(ctx, retry) {
			return "", 0, false
		}
	}
	if !r.take() {
		p.release(time.Time{})
		return "", 0, false
	}
	base := r.spec.bases[int(r.flowSeq.Add(1)-1)%len(r.spec.bases)]
	nonce, err := newNonce()
	if err != nil {
		p.release(time.Time{})
		return "", 0, false
	}
	t := loadTarget{Base: base, KeyID: keyID, Secret: secret, Signature: r.spec.flow.signature}
	var c signedCall
	if t.Signature == "v2" {
		c = signV2Action(t, benchActionNames[action], params, time.Now(), nonce)
	} else {
		c = signV3Action(t, base[len("http://"):], benchActionNames[action], params, time.Now().UTC().Format("2006-01-02T15:04:05Z"), nonce)
	}
	t0 := time.Now()
	_, b := sendCall(ctx, r.client, c, &st.buf)
	t1 := time.Now()
	p.release(t1)
	st.calls++
	st.code(b)
	return string(b), t1.Sub(t0), true
}

// outboxCode reads the newest code the simulator captured for number, from any replica.
func (r *round) outboxCode(ctx context.Context, number string) (string, error) {
	base := r.spec.bases[int(r.flowSeq.Load())%len(r.spec.bases)]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_sim/messages?Limit=1&PhoneNumber="+url.QueryEscape(number), nil)
	if err != nil {
		return "", err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("no reply")
	}
	defer resp.Body.Close()
	var out struct{ Messages []struct{ Code string } }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if len(out.Messages) == 0 {
		return "", fmt.Errorf("no code")
	}
	return out.Messages[0].Code, nil
}

// withParams is base and the key-value pairs kv, in a new map.
func withParams(base map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
