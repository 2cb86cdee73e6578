//go:build !linux

package main

import "syscall"

// serverAttr: only Linux can tie a child's life to its parent's.
func serverAttr() *syscall.SysProcAttr { return nil }
