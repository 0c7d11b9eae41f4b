package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "prog.iasm")
	if err := os.WriteFile(regular, []byte("hlt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zeroLink := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zeroLink); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		want       string // the contents, or a part of the error
		is         error
	}{
		{"regular", regular, "hlt\n", nil},
		{"too large", big, "is 100 bytes, over the size limit of 10 bytes", ErrTooLarge},
		{"fifo", fifo, "is a FIFO (named pipe)", ErrNotRegular},
		{"device via symlink", zeroLink, "is a character device", ErrNotRegular},
		{"directory", dir, "is a directory", ErrNotRegular},
		{"missing", filepath.Join(dir, "nope"), "nope: no such file or directory", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, _, err := Read(c.path, 10)
			if c.want == "hlt\n" {
				if err != nil || string(data) != c.want {
					t.Fatalf("Read = %q, %v; want %q", data, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Read error = %v; want it to contain %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("Read error = %v; want it to wrap %v", err, c.is)
			}
		})
	}
}
