#ifndef CKERNELS_H
#define CKERNELS_H

/// 1 when this CPU (and OS) can run the AVX2/FMA kernels below.
int ck_has_avx2_fma(void);

/// c[m, n] = alpha · a[m, k] · op(b) + beta · c, all row-major with rows lda/ldb/ldc floats apart.
/// op(b) = bᵀ with b stored [n, k] when trans_b, else b stored [k, n]. Needs ck_has_avx2_fma() and k > 0.
void ck_sgemm(int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb,
              float beta, float *c, long ldc);

#endif
