package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/safefile"
	"github.com/iridium-vm/iridium/internal/termtext"
)

const cookieUsage = `Usage: iridium cookie [--force] [--data-root-dir DIR] [FILE]

Writes a new random cluster cookie (32 random bytes in hex) to FILE, with
mode 600, and prints where, never the cookie. Without FILE it writes the
data directory's file 'cookie', which a node uses when given no other
cookie. An existing file is kept unless --force: the nodes that use it
would be locked out. Copy the file to every node of the cluster and give
it with --cookie-file FILE (or put it in each node's data directory).`

// cookieCommand is "iridium cookie": it writes a fresh random cookie to a
// file only its owner may read.
func cookieCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iridium cookie", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	force := fs.Bool("force", false, "replace an existing file")
	dataDir := fs.String("data-root-dir", defaultDataDir(), "the data directory")
	files, err := filecmd.ParseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stderr, cookieUsage)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "iridium cookie: %s\nRun 'iridium cookie --help' for usage.\n", termtext.Clip(err.Error(), 200))
		return exitUsage
	case len(files) > 1:
		fmt.Fprintf(stderr, "iridium cookie: one file at a time, got %d\n", len(files))
		return exitUsage
	}
	path := filepath.Join(*dataDir, cluster.CookieFile)
	if len(files) == 1 {
		path = files[0]
	} else if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		fmt.Fprintf(stderr, "iridium cookie: %s\n", termtext.Clip(err.Error(), 300))
		return exitFailure
	}
	if err := writeCookie(path, *force); err != nil {
		fmt.Fprintf(stderr, "iridium cookie: %s\n", termtext.Clip(err.Error(), 300))
		return exitFailure
	}
	fmt.Fprintf(stdout, "wrote a new cluster cookie to %s (mode 600): copy it to every node and give it with --cookie-file\n", termtext.Clip(path, 300))
	return exitOK
}

// writeCookie writes a new cookie to path, created with mode 0600; an
// existing file is replaced only if force.
func writeCookie(path string, force bool) error {
	cookie, err := cluster.NewCookie()
	if err != nil {
		return err
	}
	data := append(cookie, '\n')
	if force {
		return safefile.Replace(path, data, 0o600)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; the nodes that use it would be locked out: give --force to replace it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
