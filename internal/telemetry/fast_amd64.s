#include "textflag.h"

// func quoteBlocksAVX2(b []byte, q, k []uint64) uint64
//
// For each 64 bytes of b (len(b) a multiple of 64): the bitmap of its
// quotes into q and of its brackets ({}[]) into k; the result is non-zero
// when any byte of b is a backslash or below 0x20.
//
// The constants are moved into vector registers with VMOVD, not MOVQ:
// a legacy SSE instruction among the AVX ones cost about 200 ns a call
// on this project's machine.
TEXT ·quoteBlocksAVX2(SB), NOSPLIT, $0-80
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ q_base+24(FP), DI
	MOVQ k_base+48(FP), R8
	MOVL $0x22, AX
	VMOVD AX, X0
	VPBROADCASTB X0, Y0 // '"'
	MOVL $0x5c, AX
	VMOVD AX, X1
	VPBROADCASTB X1, Y1 // '\\'
	MOVL $0xe0, AX
	VMOVD AX, X2
	VPBROADCASTB X2, Y2 // 0xe0: a byte below 0x20 has none of these bits
	MOVL $0x20, AX
	VMOVD AX, X9
	VPBROADCASTB X9, Y9 // 0x20: [ and ] become { and }
	MOVL $0x7b, AX
	VMOVD AX, X10
	VPBROADCASTB X10, Y10 // '{'
	MOVL $0x7d, AX
	VMOVD AX, X11
	VPBROADCASTB X11, Y11 // '}'
	VPXOR Y3, Y3, Y3    // zero
	VPXOR Y8, Y8, Y8    // the specials seen

loop:
	CMPQ CX, $64
	JB   done
	VMOVDQU (SI), Y4
	VMOVDQU 32(SI), Y5
	// quotes
	VPCMPEQB Y0, Y4, Y6
	VPCMPEQB Y0, Y5, Y7
	VPMOVMSKB Y6, AX
	VPMOVMSKB Y7, DX
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, (DI)
	// brackets
	VPOR Y9, Y4, Y6
	VPOR Y9, Y5, Y7
	VPCMPEQB Y10, Y6, Y12
	VPCMPEQB Y11, Y6, Y6
	VPOR Y12, Y6, Y6
	VPCMPEQB Y10, Y7, Y13
	VPCMPEQB Y11, Y7, Y7
	VPOR Y13, Y7, Y7
	VPMOVMSKB Y6, AX
	VPMOVMSKB Y7, DX
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, (R8)
	// backslashes and control characters
	VPCMPEQB Y1, Y4, Y6
	VPCMPEQB Y1, Y5, Y7
	VPOR Y6, Y8, Y8
	VPOR Y7, Y8, Y8
	VPAND Y2, Y4, Y6
	VPAND Y2, Y5, Y7
	VPCMPEQB Y3, Y6, Y6
	VPCMPEQB Y3, Y7, Y7
	VPOR Y6, Y8, Y8
	VPOR Y7, Y8, Y8
	ADDQ $64, SI
	ADDQ $8, DI
	ADDQ $8, R8
	SUBQ $64, CX
	JMP  loop

done:
	VPMOVMSKB Y8, AX
	MOVQ AX, ret+72(FP)
	VZEROUPPER
	RET
