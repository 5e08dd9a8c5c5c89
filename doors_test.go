package camsd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

const module = "github.com/camsd/camsd"

// doors says what each package of the module may import (docs/ARCHITECTURE.md): packages of
// the module by path inside it ("" is the root), transitively; and the outside modules it may
// import directly. The standard library is always allowed. A package without a row fails the
// test, so that a new package states its doors.
var doors = map[string]struct {
	inside  []string
	outside []string
}{
	"":                       {},
	"acs":                    {inside: []string{""}},
	"ram":                    {inside: []string{""}},
	"migration":              {inside: []string{""}},
	"httpapi":                {inside: []string{"", "acs", "ram", "migration", "sts"}},
	"sts":                    {inside: []string{"", "ram"}},
	"ratelimit":              {inside: []string{""}},
	"sim":                    {inside: []string{""}},
	"sqlite":                 {inside: []string{"", "seal"}, outside: []string{"modernc.org/sqlite"}},
	"seed":                   {inside: []string{"", "ram"}, outside: []string{"github.com/goccy/go-yaml"}},
	"storetest":              {inside: []string{"", "seal"}, outside: []string{"github.com/google/go-cmp"}},
	"examples/getverifycode": {outside: []string{"github.com/alibabacloud-go/"}},
	"admin":                  {inside: []string{"", "ram", "migration"}},
	"metrics":                {inside: []string{""}, outside: []string{"github.com/prometheus/client_golang"}},
	"graph":                  {inside: []string{""}},
	"graph/graphtest":        {},
	"redisstore":             {inside: []string{"", "ratelimit"}, outside: []string{"github.com/redis/go-redis/v9"}},
	"limitertest":            {inside: []string{""}, outside: []string{"github.com/google/go-cmp"}},
	"postgres":               {inside: []string{"", "seal"}, outside: []string{"github.com/jackc/pgx/v5"}},
	"seal":                   {},
	"listen":                 {},
	"listen/listentest":      {},
	"internal/proc":          {},
}

// TestDoors keeps the doors between packages shut: the root imports only the standard
// library; acs, ram and migration only the root; adapters the root and their driver, never
// each other nor the protocol or business packages; and only cmd/camsd imports httpapi.
func TestDoors(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go is not on PATH (%v): cannot list the packages", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "list", "-deps", "-json=ImportPath,Standard,Imports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}

	type pkg struct {
		ImportPath string
		Standard   bool
		Imports    []string
		Deps       []string
	}
	pkgs := map[string]pkg{}
	var ours []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
		if _, ok := inModule(p.ImportPath); ok {
			ours = append(ours, p)
		}
	}
	if len(ours) == 0 {
		t.Fatal("go list found no package of the module")
	}

	for _, p := range ours {
		name, _ := inModule(p.ImportPath)
		sub := name
		if sub == "" {
			sub = "root"
		}
		t.Run(sub, func(t *testing.T) {
			for _, imp := range p.Imports {
				if in, ok := inModule(imp); ok && in == "httpapi" && name != "cmd/camsd" {
					t.Errorf("imports httpapi; only cmd/camsd may")
				}
			}
			if name == "cmd/camsd" {
				return // wiring: everything
			}
			door, ok := doors[name]
			if !ok {
				t.Fatalf("no row in doors for %s: say what it may import", p.ImportPath)
			}
			for _, dep := range p.Deps {
				if in, ok := inModule(dep); ok && !slices.Contains(door.inside, in) {
					t.Errorf("imports %s (directly or not); allowed inside the module: %q", dep, door.inside)
				}
			}
			for _, imp := range p.Imports {
				if _, ok := inModule(imp); ok || pkgs[imp].Standard {
					continue
				}
				if !slices.ContainsFunc(door.outside, func(prefix string) bool { return strings.HasPrefix(imp, prefix) }) {
					t.Errorf("imports %s; allowed outside the module: %q", imp, door.outside)
				}
			}
		})
	}
}

// inModule returns the path of an import path inside the module ("" for the root).
func inModule(importPath string) (string, bool) {
	if importPath == module {
		return "", true
	}
	rest, ok := strings.CutPrefix(importPath, module+"/")
	return rest, ok
}
