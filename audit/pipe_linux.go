package audit

import (
	"os"
	"syscall"
)

// growPipe asks Linux for a pipe buffer of n bytes (it rounds up to pages
// and caps at /proc/sys/fs/pipe-max-size, 1 MiB by default). A larger
// buffer lets the decompressing program run ahead of the scan instead of
// waking it every 64 KiB. Failure only costs speed.
func growPipe(f *os.File, n int) {
	const fSetPipeSz = 1031 // F_SETPIPE_SZ
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(n))
		})
	}
}
