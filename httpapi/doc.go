// Package httpapi is camsd's HTTP face: the action table behind "/", the order of the checks
// every call goes through (protocol, flow control, subscription, RAM, then the action), the
// health endpoints and the simulator's routes. It translates; the rules live in acs, ram and
// migration.
package httpapi
