package testkit

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The ports Ports hands out lie below the kernel's ephemeral range, which
// is where it picks a port for a listener on port 0 and for an outgoing
// connection. Nothing in the system therefore takes them by chance: only a
// program that names one. Among tests, of this process or of others (go
// test runs packages side by side; several checkouts may test at once),
// a port is held by a lock on a file named after it, which the kernel
// drops when the holder exits, however it ends.
const (
	firstPort       = 10000
	defaultEphemLow = 32768 // Linux's default start of the ephemeral range
)

// Ports returns n TCP ports on loopback for t alone, until t ends: free
// when checked, below the ephemeral range, and locked against every other
// test that asks Ports. It is for a process under test that must be told
// its port before it starts (a peer joins it before it listens, a script
// takes the port). A test that can let the system choose (port 0, then
// read the address back) should.
func Ports(t testing.TB, n int) []int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("iridium-test-ports-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("testkit.Ports: %v", err)
	}
	last := ephemeralLow() - 1
	span := last - firstPort + 1
	if span < n {
		t.Fatalf("testkit.Ports: the ephemeral range starts at %d: no room below it for %d ports", last+1, n)
	}
	// Processes start at different places, so they seldom contend.
	start := os.Getpid() % span
	var ports []int
	for i := 0; i < span && len(ports) < n; i++ {
		port := firstPort + (start+i)%span
		lock, ok := lockPort(t, dir, port)
		if !ok {
			continue
		}
		if !free(port) {
			lock.Close()
			continue
		}
		t.Cleanup(func() { lock.Close() })
		ports = append(ports, port)
	}
	if len(ports) < n {
		t.Fatalf("testkit.Ports: found %d free ports of %d in %d-%d", len(ports), n, firstPort, last)
	}
	return ports
}

// free reports whether nothing listens on port, on any address.
func free(port int) bool {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// ephemeralLow returns the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemLow
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return defaultEphemLow
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil || low <= firstPort {
		return defaultEphemLow
	}
	return low
}
