//go:build unix && !linux

package cluster

import "syscall"

// sysRead and sysWrite are read(2) and write(2) as the syscall package
// makes them; rawsys_linux.go makes them raw.
func sysRead(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }

func sysWrite(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
