// Package remote is Iridium's remote shell: an SSH server
// (golang.org/x/crypto/ssh) that gives each session a shell of its own,
// made by a function the caller passes in, so that any OpenSSH client is
// the node's remote shell.
//
// Only public-key authentication is offered, against an authorized_keys
// file in OpenSSH's format; the key that authorised a connection is the
// key that signed its authentication (see Server and authorizedKeys). A
// session that asks for a pseudo-terminal gets an interactive shell; one
// without runs its input as a script; an exec request runs its command
// text as script lines. Before authentication a peer gets a short
// deadline, a bounded number of concurrent handshakes and no log line of
// its own: refusals are logged with their source address, and past a few
// per interval only as a summary.
package remote
