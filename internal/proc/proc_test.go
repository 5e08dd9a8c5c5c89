package proc

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		stat string
		name string
		cpu  time.Duration
		bad  bool
	}{
		{stat: "2250 (postgres) S 1 2250 2250 0 -1 4194560 3101 0 0 0 12 14 0 0 20 0 1 0 1234 217328128 7600",
			name: "postgres", cpu: 260 * time.Millisecond},
		{stat: "77 (a b) c)) R 1 77 77 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1", name: "a b) c)", cpu: 70 * time.Millisecond},
		{stat: "77 no comm R 1", bad: true},
		{stat: "77 (short) R 1 2 3", bad: true},
		{stat: "77 (x) R 1 77 77 0 -1 0 0 0 0 0 u s 0", bad: true},
	} {
		name, cpu, err := parseStat([]byte(tc.stat))
		if tc.bad {
			if err == nil {
				t.Errorf("parseStat(%q) = %q, %v, want an error", tc.stat, name, cpu)
			}
			continue
		}
		if err != nil || name != tc.name || cpu != tc.cpu {
			t.Errorf("parseStat(%q) = %q, %v, %v, want %q, %v", tc.stat, name, cpu, err, tc.name, tc.cpu)
		}
	}
}

// CPU reads this test's own process: its name is the test binary's (comm holds at most 15
// bytes).
func TestCPU_self(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/<pid>/stat is Linux's")
	}
	name, _, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Base(exe); !strings.HasPrefix(want, name) || name == "" {
		t.Errorf("CPU(self) name %q, want a prefix of %q", name, want)
	}
	if _, _, err := CPU(-1); err == nil {
		t.Error("CPU(-1): no error")
	}
}
