package remote

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

// BenchmarkLoginExec is the cost of one remote command over a new
// connection: TCP connect, key exchange, public-key login, an exec
// session and its exit status, then close. It is what each
// `ssh host '!cluster_members'` costs the node (and the client).
func BenchmarkLoginExec(b *testing.B) {
	key := newKey(b)
	_, addr, _ := startServer(b, nil, key.PublicKey())
	b.ReportAllocs()
	for b.Loop() {
		c, err := dial(addr, ssh.PublicKeys(key))
		if err != nil {
			b.Fatal(err)
		}
		execOnce(b, c)
		c.Close()
	}
}

// BenchmarkExecOnOpenConnection is the cost of one more session on a
// connection already logged in.
func BenchmarkExecOnOpenConnection(b *testing.B) {
	key := newKey(b)
	_, addr, _ := startServer(b, nil, key.PublicKey())
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		execOnce(b, c)
	}
}

// execOnce runs one exec session on c to its end.
func execOnce(b *testing.B, c *ssh.Client) {
	sess, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Output("x"); err != nil {
		b.Fatal(err)
	}
}
