package safefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.iasm")
	for _, content := range []string{"first\n", "second\n"} {
		if err := Replace(path, []byte(content), 0o640); err != nil {
			t.Fatalf("Replace: %v", err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("after Replace: %q, %v; want %q", got, err, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode: %v, %v; want 0640", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the directory holds %d files, want 1 (no temporary file left)", len(entries))
	}
	if err := Replace(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644); err == nil {
		t.Fatal("Replace into a missing directory: no error")
	}
}

// TestReplaceKeepsDevicesAndLinks checks that a device is written in place
// (renaming over /dev/null as root would replace the device for the whole
// machine), that a symbolic link keeps pointing at the replaced file, and
// that a directory is refused.
func TestReplaceKeepsDevicesAndLinks(t *testing.T) {
	if err := Replace(os.DevNull, []byte("discarded\n"), 0o644); err != nil {
		t.Fatalf("Replace(%s): %v", os.DevNull, err)
	}
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s after Replace: %v, %v; want a character device", os.DevNull, fi.Mode(), err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "target.iasm")
	link := filepath.Join(dir, "link.iasm")
	if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Replace(link, []byte("new\n"), 0o644); err != nil {
		t.Fatalf("Replace through a link: %v", err)
	}
	if lfi, err := os.Lstat(link); err != nil || lfi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link after Replace: %v, %v; want a symbolic link still", lfi.Mode(), err)
	}
	if got, err := os.ReadFile(target); err != nil || string(got) != "new\n" {
		t.Fatalf("the link's target after Replace: %q, %v; want %q", got, err, "new\n")
	}
	if err := Replace(dir, []byte("x"), 0o644); err == nil {
		t.Fatal("Replace of a directory: no error")
	}
	// A FIFO with no reader is refused at once, not waited on.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Replace(fifo, []byte("x"), 0o644); err == nil {
		t.Fatal("Replace of a FIFO: no error")
	}
}
