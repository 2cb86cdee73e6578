//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// fileID returns the device and inode of a local file, or nil.
func fileID(st fs.FileInfo) any {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return [2]uint64{uint64(sys.Dev), uint64(sys.Ino)}
	}
	return nil
}
