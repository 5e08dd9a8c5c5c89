package limitertest

import (
	"context"
	"sort"
	"time"

	"github.com/camsd/camsd"
)

var _ camsd.Limiter = (*oracle)(nil)

// oracle keeps every admission and counts the window each time: the rule verbatim. RetryAfter
// is when enough admissions have left for the count to fall below limit. It is not safe for
// concurrent use and assumes a clock that never goes back.
type oracle struct {
	Now  func() time.Time
	keys map[string][]time.Time
}

func newOracle(now func() time.Time) *oracle {
	return &oracle{Now: now, keys: make(map[string][]time.Time)}
}

func (o *oracle) Allow(_ context.Context, key string, limit int) (camsd.Decision, error) {
	t := o.Now()
	var in []time.Time
	for _, a := range o.keys[key] {
		if t.Sub(a) < time.Second {
			in = append(in, a)
		}
	}
	if len(in) < limit {
		o.keys[key] = append(o.keys[key], t)
		return camsd.Decision{Allowed: true, At: t}, nil
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Before(in[j]) })
	return camsd.Decision{At: t, RetryAfter: in[len(in)-limit].Add(time.Second).Sub(t)}, nil
}
