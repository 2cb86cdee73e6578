//go:build !purego

#include "textflag.h"

// SPECIAL sets each byte of x to 0xff where it is not printable ASCII,
// else 0: below 0x20 as a signed byte (so 0x80 and up are too), or 0x7f.
// X8 and X9 hold 0x20 and 0x7f in every byte; X4 is scratch.
#define SPECIAL(x) \
	MOVOU	X8, X4; \
	PCMPGTB	x, X4; \
	PCMPEQB	X9, x; \
	POR	X4, x

// func printable16(data []byte) int
//
// Sixteen bytes an instruction with SSE2, which every amd64 CPU has (no
// AVX, so no upper register halves are left dirty for the Go code after
// it).
TEXT ·printable16(SB), NOSPLIT, $0-32
	MOVQ	data_base+0(FP), SI
	MOVQ	data_len+8(FP), BX
	XORQ	AX, AX
	MOVQ	$0x2020202020202020, DX
	MOVQ	DX, X8
	PUNPCKLQDQ	X8, X8
	MOVQ	$0x7f7f7f7f7f7f7f7f, DX
	MOVQ	DX, X9
	PUNPCKLQDQ	X9, X9
	MOVQ	BX, CX
	ANDQ	$~63, CX // CX: the end of the whole 64-byte blocks

// 64 bytes a turn while no byte is special.
loop64:
	CMPQ	AX, CX
	JAE	blocks16
	MOVOU	0(SI)(AX*1), X0
	MOVOU	16(SI)(AX*1), X1
	MOVOU	32(SI)(AX*1), X2
	MOVOU	48(SI)(AX*1), X3
	SPECIAL(X0)
	SPECIAL(X1)
	SPECIAL(X2)
	SPECIAL(X3)
	POR	X1, X0
	POR	X3, X2
	POR	X2, X0
	PMOVMSKB	X0, DX
	TESTL	DX, DX
	JNZ	blocks16
	ADDQ	$64, AX
	JMP	loop64

// 16 bytes a turn: the block that holds the special byte, or the rest.
blocks16:
	MOVQ	BX, CX
	ANDQ	$~15, CX // CX: the end of the whole 16-byte blocks

loop16:
	CMPQ	AX, CX
	JAE	done
	MOVOU	0(SI)(AX*1), X0
	SPECIAL(X0)
	PMOVMSKB	X0, DX
	TESTL	DX, DX
	JNZ	found
	ADDQ	$16, AX
	JMP	loop16

// The lowest set bit of the mask is the first special byte.
found:
	BSFL	DX, DX
	ADDQ	DX, AX

done:
	MOVQ	AX, ret+24(FP)
	RET
