// Command startup-floor is the start-up floor of a Go binary with the
// libraries iridium cannot do without: crypto/tls for the cluster,
// golang.org/x/crypto/ssh for remote shells, readline and color for the
// REPL, log/slog for the daemon. It only imports them, so their package
// initialisation runs but the linker keeps little of their code, and
// prints one line. `python3 bench/startup.py N --floor` runs it beside
// iridium and lua5.4; docs/performance.md (Start-up) has the figures.
package main

import (
	_ "crypto/tls"
	_ "log/slog"
	"os"

	_ "github.com/chzyer/readline"
	_ "github.com/fatih/color"
	_ "golang.org/x/crypto/ssh"
)

func main() { os.Stdout.WriteString("hi\n") }
