package cluster

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/iridium-vm/iridium/internal/termtext"
)

// maxQuotedAddr caps how much of a mistyped address an error repeats.
const maxQuotedAddr = 64

// maxClaimShown caps what an error repeats of what an unproven peer says
// it is (its alias, its address).
const maxClaimShown = 128

// ParseJoinAddr parses the address of a node to join as a user types it:
// one word HOST:PORT (an IPv6 host in brackets, [::1]:2254) or two words
// HOST and PORT. Its errors say which form is wanted and give
// DefaultBindPort, the cluster port a node listens on unless told
// otherwise, as the example.
func ParseJoinAddr(words ...string) (host string, port int, err error) {
	var portText string
	switch len(words) {
	case 1:
		h, p, splitErr := net.SplitHostPort(words[0])
		if splitErr != nil {
			return "", 0, fmt.Errorf("%q is not HOST:PORT; want HOST:PORT or HOST PORT, such as %s", cut(words[0]), joinExample(words[0]))
		}
		host, portText = h, p
	case 2:
		host, portText = words[0], words[1]
	default:
		return "", 0, fmt.Errorf("want HOST:PORT or HOST PORT, such as 127.0.0.1:%d", DefaultBindPort)
	}
	if host == "" {
		return "", 0, fmt.Errorf("no host before the port; want HOST:PORT, such as %s", joinExample(portText))
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want a number from 1 to 65535 (a node's cluster port is %d unless its --cluster-port says otherwise)", cut(portText), DefaultBindPort)
	}
	return host, port, nil
}

// joinExample is the address a user probably meant by word, which is not
// HOST:PORT: word with the default cluster port, when word looks like a
// host alone.
func joinExample(word string) string {
	def := strconv.Itoa(DefaultBindPort)
	if _, err := strconv.Atoi(word); err == nil {
		return "127.0.0.1:" + word
	}
	if word == "" || len(word) > maxQuotedAddr || strings.IndexFunc(word, notHostRune) >= 0 {
		return "127.0.0.1:" + def
	}
	if net.ParseIP(word) == nil && strings.Contains(word, ":") {
		return "127.0.0.1:" + def
	}
	return net.JoinHostPort(word, def)
}

// notHostRune reports whether r cannot be part of a host name or an IP
// address.
func notHostRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '_')
}

// cut is at most maxQuotedAddr bytes of s, for an error to quote.
func cut(s string) string { return termtext.Cut(s, maxQuotedAddr) }
