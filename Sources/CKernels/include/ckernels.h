#ifndef CKERNELS_H
#define CKERNELS_H

/// Instruction sets the kernels come in.
enum { CK_NONE = 0, CK_AVX2 = 1, CK_AVX512 = 2 };

/// The widest instruction set this CPU (and OS) supports: CK_AVX512, CK_AVX2 (with FMA) or CK_NONE; both
/// with F16C.
int ck_best_isa(void);

/// GGML block formats the quantized matrix-vector product reads: 32 values a block, 256 for the K-quants.
enum { CK_Q4_1 = 0, CK_Q5_0 = 1, CK_Q8_0 = 2, CK_Q4_K = 3, CK_Q6_K = 4 };

/// y[r] = Σ_c w[r, c] · x[c] for `rows` rows of a matrix in `format` blocks, rows `row_bytes` apart; `cols` is
/// a whole number of blocks. `isa` picks the loops: CK_NONE the scalar ones (the reference), CK_AVX2, CK_AVX512.
void ck_matvec_quantized(int isa, int format, const void *w, long row_bytes, long rows, long cols,
                         const float *x, float *y);

/// c[m, n] = alpha · a[m, k] · op(b) + beta · c, all row-major with rows lda/ldb/ldc floats apart.
/// op(b) = bᵀ with b stored [n, k] when trans_b, else b stored [k, n].
/// `isa` is CK_AVX2 or CK_AVX512, at most ck_best_isa(); k > 0.
void ck_sgemm(int isa, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb,
              float beta, float *c, long ldc);

#endif
