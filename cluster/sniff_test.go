package cluster

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestForeignGreetings: the first bytes of SSH and HTTP, read as a frame,
// are named for what they are, as a protocol error; a frame, TLS and
// other bytes are not taken for them.
func TestForeignGreetings(t *testing.T) {
	t.Parallel()
	fc := newFrameCodec(PreAuthMaxFrameSize)
	hello, err := fc.marshal(sampleMessages()[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input, protocol, text string
	}{
		{"an SSH server's version line", "SSH-2.0-Iridium\r\n", "SSH", "that is an SSH port, not a cluster port (it sent an SSH version line)"},
		{"an HTTP response", "HTTP/1.1 400 Bad Request\r\n\r\n", "HTTP", "that is an HTTP port, not a cluster port (it sent an HTTP response)"},
		{"an HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP", "(it sent an HTTP request)"},
		{"a POST", "POST /x HTTP/1.0\r\n\r\n", "HTTP", "(it sent an HTTP request)"},
		{"TLS", "\x16\x03\x01\x02\x00\x01", "", ""},
		{"other bytes", "\xff\xff\xff\xff\x02", "", ""},
		{"a frame", string(hello), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fc.read(bytes.NewReader([]byte(tt.input)))
			var f *foreignProtocolError
			if got := errors.As(err, &f); got != (tt.protocol != "") {
				t.Fatalf("read: %v; want a foreign protocol: %v", err, tt.protocol != "")
			}
			if f == nil {
				return
			}
			if f.protocol != tt.protocol || !strings.Contains(err.Error(), tt.text) || !errors.Is(err, errProtocol) {
				t.Errorf("read: %v (%s); want %s, %q, a protocol error", err, f.protocol, tt.protocol, tt.text)
			}
			if !strings.Contains(err.Error(), "-P/--server-bind-port, 2254 unless set") {
				t.Errorf("read: %v; want where the cluster port is", err)
			}
		})
	}
}
