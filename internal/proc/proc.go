// Package proc reads how much CPU a process has used from Linux's /proc: camsd bench's CPU
// per process (camsd, postgres, redis-server) and the PostgreSQL store's benchmarks share it.
package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which is 100 on
// every Linux architecture Go supports (the kernel keeps it at 100 for userspace whatever its
// own HZ).
const clockTick = 10 * time.Millisecond

// CPU returns the name (comm) of process pid and the CPU time it has used so far, user and
// system, in clock ticks of 10 ms; an error when there is no such process or no /proc.
func CPU(pid int) (name string, cpu time.Duration, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, err
	}
	name, cpu, err = parseStat(b)
	if err != nil {
		return "", 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return name, cpu, nil
}

// parseStat reads comm, utime and stime from the text of /proc/<pid>/stat.
func parseStat(b []byte) (name string, cpu time.Duration, err error) {
	// pid (comm) state ppid ...: comm may hold spaces and parentheses; it ends at the last ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("no (comm) in %q", b)
	}
	f := bytes.Fields(b[end+1:]) // f[0] is field 3 (state): utime is field 14, stime 15
	if len(f) < 13 {
		return "", 0, fmt.Errorf("%d fields, want at least 15", len(f)+2)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("utime %q, stime %q: not counts", f[11], f[12])
	}
	return string(b[open+1 : end]), time.Duration(ut+st) * clockTick, nil
}
