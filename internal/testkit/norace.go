//go:build !race

package testkit

// RaceEnabled reports whether this test binary was built with the race
// detector: a test that builds a binary to run should build it alike
// (go build -race), so `go test -race` checks that binary too and a plain
// `go test` runs it at full speed.
const RaceEnabled = false
