// Command startup-floor-linked is bench/startup-floor with the functions
// of those libraries that iridium calls linked in: TLS and SSH servers and
// clients, readline, JSON, colour, slog and argon2 (the cluster's cookie).
// They sit behind a test of the arguments that is never true, so the
// binary runs as the floor does, but is nearer iridium's size (8.7 MB
// against 10.9 MB; the floor is 4.5 MB), and the runtime's start-up and
// the page faults of a larger binary are part of its figure.
package main

import (
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net"
	"os"

	"github.com/chzyer/readline"
	"github.com/fatih/color"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/ssh"
)

func main() {
	if len(os.Args) > 99 { // never: only so that the linker keeps the code
		ln, _ := tls.Listen("tcp", os.Args[1], &tls.Config{})
		conn, _ := tls.Dial("tcp", os.Args[1], &tls.Config{})
		nc, _ := net.Dial("tcp", os.Args[2])
		server, chans, reqs, _ := ssh.NewServerConn(nc, &ssh.ServerConfig{})
		client, _ := ssh.Dial("tcp", os.Args[3], &ssh.ClientConfig{})
		rl, _ := readline.NewEx(&readline.Config{})
		b, _ := json.Marshal(os.Args)
		json.Unmarshal(b, &os.Args)
		color.New(color.FgRed).Println(ln, conn, server, chans, reqs, client, rl)
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("x", "key", argon2.IDKey(b, b, 1, 1, 1, 32))
	}
	os.Stdout.WriteString("hi\n")
}
