package main

import "syscall"

// serverAttr makes a test's server die with the test binary, even when a
// timeout kills the binary before its cleanups run.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
