package proc

import "syscall"

// wakeMonitor makes a system call that the Go runtime is told of, which
// ends the deep sleep of the runtime's monitor thread (sysmon) if it
// sleeps: a scheduler thread that leaves its park is about to keep a
// processor busy, maybe every processor, and then only sysmon preempts
// long-running goroutines and polls the network. Asleep, sysmon wakes
// only at the next Go timer or system call; the cluster's probe timer
// on Linux is a timerfd, not a Go timer (cluster/slottimer_linux.go),
// so an idle node may have none, and without this a node whose threads
// all started running processes heard nothing from its links for up to
// a minute. getpid(2) is the cheapest call there is.
func wakeMonitor() {
	syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
}
