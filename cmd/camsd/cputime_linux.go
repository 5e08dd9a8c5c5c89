//go:build linux

package main

import (
	"os"
	"strconv"
	"time"

	"github.com/camsd/camsd/internal/proc"
)

// procSnapshot is the CPU time, user and system, that each process named in names has used
// so far, by name and pid, read from /proc/<pid>/stat; ok is false when /proc cannot be read.
func procSnapshot(names ...string) (snap map[string]map[int]time.Duration, ok bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	snap = map[string]map[int]time.Duration{}
	for _, n := range names {
		snap[n] = map[int]time.Duration{}
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		name, cpu, err := proc.CPU(pid)
		if err != nil {
			continue // it exited meanwhile
		}
		if byPID, ok := snap[name]; ok {
			byPID[pid] = cpu
		}
	}
	return snap, true
}
