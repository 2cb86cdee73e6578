//go:build !purego

#include "textflag.h"

// Sixteen bytes an instruction with SSE2, which every amd64 CPU has, or,
// in printableAVX2, thirty-two with AVX2, which ends with VZEROUPPER so
// that no upper register halves are left dirty for the Go code after it.
//
// PRINTABLE sets each byte of x to 0xff where it is printable ASCII
// (0x20-0x7e), else 0: x+1 is above 0x20 as a signed byte just for those.
// X8 holds 0x20 and X9 0x01 in every byte.
#define PRINTABLE(x) \
	PADDB	X9, x; \
	PCMPGTB	X8, x

// Each constant holds one byte in all sixteen places.
DATA bytes20<>+0(SB)/8, $0x2020202020202020
DATA bytes20<>+8(SB)/8, $0x2020202020202020
GLOBL bytes20<>(SB), RODATA|NOPTR, $16
DATA bytes21<>+0(SB)/8, $0x2121212121212121
DATA bytes21<>+8(SB)/8, $0x2121212121212121
GLOBL bytes21<>(SB), RODATA|NOPTR, $16
DATA bytes01<>+0(SB)/8, $0x0101010101010101
DATA bytes01<>+8(SB)/8, $0x0101010101010101
GLOBL bytes01<>(SB), RODATA|NOPTR, $16
DATA commas<>+0(SB)/8, $0x2c2c2c2c2c2c2c2c
DATA commas<>+8(SB)/8, $0x2c2c2c2c2c2c2c2c
GLOBL commas<>(SB), RODATA|NOPTR, $16
DATA slashes<>+0(SB)/8, $0x2f2f2f2f2f2f2f2f
DATA slashes<>+8(SB)/8, $0x2f2f2f2f2f2f2f2f
GLOBL slashes<>(SB), RODATA|NOPTR, $16
DATA equals<>+0(SB)/8, $0x3d3d3d3d3d3d3d3d
DATA equals<>+8(SB)/8, $0x3d3d3d3d3d3d3d3d
GLOBL equals<>(SB), RODATA|NOPTR, $16

// func printable(data []byte) int
TEXT ·printable(SB), NOSPLIT, $0-32
	CMPB	·useAVX2(SB), $0
	JNE	avx2
	JMP	·printableSSE2(SB)

avx2:
	JMP	·printableAVX2(SB)

// func printableSSE2(data []byte) int
TEXT ·printableSSE2(SB), NOSPLIT, $0-32
	MOVQ	data_base+0(FP), SI
	MOVQ	data_len+8(FP), BX
	XORQ	AX, AX
	MOVOU	bytes20<>(SB), X8
	MOVOU	bytes01<>(SB), X9
	MOVQ	BX, CX
	ANDQ	$~63, CX // CX: the end of the whole 64-byte blocks
	JZ	blocks16

// 64 bytes a turn while all are printable.
loop64:
	MOVOU	0(SI)(AX*1), X0
	MOVOU	16(SI)(AX*1), X1
	MOVOU	32(SI)(AX*1), X2
	MOVOU	48(SI)(AX*1), X3
	PRINTABLE(X0)
	PRINTABLE(X1)
	PRINTABLE(X2)
	PRINTABLE(X3)
	PAND	X1, X0
	PAND	X3, X2
	PAND	X2, X0
	PMOVMSKB	X0, DX
	CMPL	DX, $0xffff
	JNE	blocks16
	ADDQ	$64, AX
	CMPQ	AX, CX
	JB	loop64

// 16 bytes a turn: the block that holds the first byte that is not
// printable, or the rest.
blocks16:
	MOVQ	BX, CX
	ANDQ	$~15, CX // CX: the end of the whole 16-byte blocks

loop16:
	CMPQ	AX, CX
	JAE	tail
	MOVOU	0(SI)(AX*1), X0
	PRINTABLE(X0)
	PMOVMSKB	X0, DX
	XORL	$0xffff, DX
	JNZ	found
	ADDQ	$16, AX
	JMP	loop16

// The lowest set bit of DX is the first byte that is not printable.
found:
	BSFL	DX, DX
	ADDQ	DX, AX
	MOVQ	AX, ret+24(FP)
	RET

// The last 15 bytes at most, one at a time.
tail:
	CMPQ	AX, BX
	JAE	done
	MOVBLZX	(SI)(AX*1), DX
	SUBL	$0x20, DX
	CMPL	DX, $0x5e
	JA	done
	INCQ	AX
	JMP	tail

done:
	MOVQ	AX, ret+24(FP)
	RET

// func idEnd(d []byte, i int) int
//
// A byte ends a movie id when it is not printable ASCII, or is ' ', ',',
// '/' or '=': x+1 is above 0x21 as a signed byte just for the printable
// bytes but ' ', and the others are compared one by one.
TEXT ·idEnd(SB), NOSPLIT, $0-40
	MOVQ	d_base+0(FP), SI
	MOVQ	d_len+8(FP), BX
	MOVQ	i+24(FP), DI
	CMPQ	DI, BX
	JA	idnone
	ADDQ	DI, SI
	SUBQ	DI, BX // SI, BX: d[i:]
	MOVQ	BX, CX
	ANDQ	$~15, CX // CX: the end of the whole 16-byte blocks
	XORQ	AX, AX
	MOVOU	bytes21<>(SB), X8
	MOVOU	bytes01<>(SB), X9
	MOVOU	commas<>(SB), X10
	MOVOU	slashes<>(SB), X11
	MOVOU	equals<>(SB), X12

idloop:
	CMPQ	AX, CX
	JAE	idtail
	MOVOU	0(SI)(AX*1), X0
	MOVOU	X0, X1
	PCMPEQB	X10, X1
	MOVOU	X0, X2
	PCMPEQB	X11, X2
	MOVOU	X0, X3
	PCMPEQB	X12, X3
	PRINTABLE(X0) // with X8 0x21: printable but ' '
	POR	X2, X1
	POR	X3, X1
	PANDN	X0, X1 // X1: the bytes that may be in an id
	PMOVMSKB	X1, DX
	XORL	$0xffff, DX
	JNZ	idfound
	ADDQ	$16, AX
	JMP	idloop

idfound:
	BSFL	DX, DX
	ADDQ	DX, AX

idret:
	ADDQ	DI, AX
	MOVQ	AX, ret+32(FP)
	RET

// The last 15 bytes at most, one at a time.
idtail:
	CMPQ	AX, BX
	JAE	idnone
	MOVBLZX	(SI)(AX*1), DX
	CMPL	DX, $0x21
	JB	idret
	CMPL	DX, $0x7e
	JA	idret
	CMPL	DX, $0x2c
	JEQ	idret
	CMPL	DX, $0x2f
	JEQ	idret
	CMPL	DX, $0x3d
	JEQ	idret
	INCQ	AX
	JMP	idtail

idnone:
	MOVQ	$-1, ret+32(FP)
	RET

// func printableAVX2(data []byte) int
//
// The minimum, as signed bytes, of x+1 over 128 bytes is above 0x20 just
// when all of them are printable.
TEXT ·printableAVX2(SB), NOSPLIT, $0-32
	MOVQ	data_base+0(FP), SI
	MOVQ	data_len+8(FP), BX
	XORQ	AX, AX
	VPBROADCASTB	bytes20<>(SB), Y8
	VPBROADCASTB	bytes01<>(SB), Y9
	MOVQ	BX, CX
	ANDQ	$~127, CX // CX: the end of the whole 128-byte blocks
	JZ	avx32

// 128 bytes a turn while all are printable.
avx128:
	VMOVDQU	0(SI)(AX*1), Y0
	VMOVDQU	32(SI)(AX*1), Y1
	VMOVDQU	64(SI)(AX*1), Y2
	VMOVDQU	96(SI)(AX*1), Y3
	VPADDB	Y9, Y0, Y0
	VPADDB	Y9, Y1, Y1
	VPADDB	Y9, Y2, Y2
	VPADDB	Y9, Y3, Y3
	VPMINSB	Y1, Y0, Y0
	VPMINSB	Y3, Y2, Y2
	VPMINSB	Y2, Y0, Y0
	VPCMPGTB	Y8, Y0, Y0
	VPMOVMSKB	Y0, DX
	CMPL	DX, $0xffffffff
	JNE	avx32
	ADDQ	$128, AX
	CMPQ	AX, CX
	JB	avx128

// 32 bytes a turn: the block that holds the first byte that is not
// printable, or the rest.
avx32:
	MOVQ	BX, CX
	ANDQ	$~31, CX // CX: the end of the whole 32-byte blocks

avx32loop:
	CMPQ	AX, CX
	JAE	avxrest
	VMOVDQU	0(SI)(AX*1), Y0
	VPADDB	Y9, Y0, Y0
	VPCMPGTB	Y8, Y0, Y0
	VPMOVMSKB	Y0, DX
	XORL	$0xffffffff, DX
	JNZ	avxfound
	ADDQ	$32, AX
	JMP	avx32loop

// The lowest set bit of DX is the first byte that is not printable.
avxfound:
	VZEROUPPER
	BSFL	DX, DX
	ADDQ	DX, AX
	MOVQ	AX, ret+24(FP)
	RET

// The last 31 bytes at most: 16 at once, then one at a time.
avxrest:
	VZEROUPPER
	MOVQ	BX, CX
	SUBQ	AX, CX
	CMPQ	CX, $16
	JB	avxtail
	MOVOU	0(SI)(AX*1), X0
	PRINTABLE(X0)
	PMOVMSKB	X0, DX
	XORL	$0xffff, DX
	JNZ	avxfound16
	ADDQ	$16, AX

avxtail:
	CMPQ	AX, BX
	JAE	avxdone
	MOVBLZX	(SI)(AX*1), DX
	SUBL	$0x20, DX
	CMPL	DX, $0x5e
	JA	avxdone
	INCQ	AX
	JMP	avxtail

avxfound16:
	BSFL	DX, DX
	ADDQ	DX, AX

avxdone:
	MOVQ	AX, ret+24(FP)
	RET

// func commaEnd(d []byte, i int) int
//
// A byte ends a user id or a server when it is ',' or not printable
// ASCII.
TEXT ·commaEnd(SB), NOSPLIT, $0-40
	MOVQ	d_base+0(FP), SI
	MOVQ	d_len+8(FP), BX
	MOVQ	i+24(FP), DI
	CMPQ	DI, BX
	JA	cenone
	ADDQ	DI, SI
	SUBQ	DI, BX // SI, BX: d[i:]
	MOVQ	BX, CX
	ANDQ	$~15, CX // CX: the end of the whole 16-byte blocks
	XORQ	AX, AX
	MOVOU	bytes20<>(SB), X8
	MOVOU	bytes01<>(SB), X9
	MOVOU	commas<>(SB), X10

celoop:
	CMPQ	AX, CX
	JAE	cetail
	MOVOU	0(SI)(AX*1), X0
	MOVOU	X0, X1
	PCMPEQB	X10, X1
	PRINTABLE(X0)
	PANDN	X0, X1 // X1: the bytes that may be in the field
	PMOVMSKB	X1, DX
	XORL	$0xffff, DX
	JNZ	cefound
	ADDQ	$16, AX
	JMP	celoop

cefound:
	BSFL	DX, DX
	ADDQ	DX, AX

ceret:
	ADDQ	DI, AX
	MOVQ	AX, ret+32(FP)
	RET

// The last 15 bytes at most, one at a time.
cetail:
	CMPQ	AX, BX
	JAE	cenone
	MOVBLZX	(SI)(AX*1), DX
	CMPL	DX, $0x20
	JB	ceret
	CMPL	DX, $0x7e
	JA	ceret
	CMPL	DX, $0x2c
	JEQ	ceret
	INCQ	AX
	JMP	cetail

cenone:
	MOVQ	$-1, ret+32(FP)
	RET
