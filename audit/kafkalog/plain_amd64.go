//go:build !purego

package kafkalog

import "golang.org/x/sys/cpu"

// The functions below are written in assembly (plain_amd64.s).

// printable returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e). It jumps to printableAVX2 or
// printableSSE2: a Go function that called one or the other would cost
// too much to be inlined.
//
//go:noescape
func printable(data []byte) int

// useAVX2 says whether the CPU and system run AVX2, which reads a
// recommendation's text twice as fast as SSE2. It is set when the package
// is initialised and never written after; the assembly reads it, a byte.
var useAVX2 = cpu.X86.HasAVX2

// printableSSE2 is printable sixteen bytes an instruction.
//
//go:noescape
func printableSSE2(data []byte) int

// printableAVX2 is printable thirty-two bytes an instruction, for CPUs
// with AVX2 only.
//
//go:noescape
func printableAVX2(data []byte) int

// idEnd returns the index of the first byte of d from i on that cannot be
// in a movie id (see validID) or is not printable ASCII, or -1 when there
// is none.
//
//go:noescape
func idEnd(d []byte, i int) int

// commaEnd returns the index of the first byte of d from i on that is ','
// or not printable ASCII, or -1 when there is none.
//
//go:noescape
func commaEnd(d []byte, i int) int
