#ifndef CKERNELS_H
#define CKERNELS_H

/// Instruction sets the kernels come in.
enum { CK_NONE = 0, CK_AVX2 = 1, CK_AVX512 = 2 };

/// The widest instruction set this CPU (and OS) supports: CK_AVX512, CK_AVX2 (with FMA) or CK_NONE.
int ck_best_isa(void);

/// c[m, n] = alpha · a[m, k] · op(b) + beta · c, all row-major with rows lda/ldb/ldc floats apart.
/// op(b) = bᵀ with b stored [n, k] when trans_b, else b stored [k, n].
/// `isa` is CK_AVX2 or CK_AVX512, at most ck_best_isa(); k > 0.
void ck_sgemm(int isa, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb,
              float beta, float *c, long ldc);

#endif
