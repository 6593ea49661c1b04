// Single-precision matrix multiply for AVX2/FMA or AVX-512, in the BLIS scheme: b is packed into panels
// NR columns wide (16 for AVX2, 32 for AVX-512), a into panels 6 rows high, and a 6×NR micro-kernel keeps
// the tile of c in 12 vector registers while it runs down k. Compiled per function for its instruction
// set, so the rest of the binary stays baseline x86-64; callers check ck_best_isa() first.
#include "ckernels.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { MR = 6, KC = 256, MC = 120, NC = 3072 };

int ck_best_isa(void) {
    __builtin_cpu_init();
    // F16C (half-precision conversion) comes with every AVX2 CPU; the quantized kernels use it.
    if (!__builtin_cpu_supports("f16c")) return CK_NONE;
    if (__builtin_cpu_supports("avx512f")) return CK_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_AVX2;
    return CK_NONE;
}

/// Packs a[rows, depth] (rows lda apart) into MR-row panels: panel[p][i] = a[i, p], zero past `rows`.
static void pack_a(long rows, long depth, const float *a, long lda, float *packed) {
    for (long i0 = 0; i0 < rows; i0 += MR) {
        long height = rows - i0 < MR ? rows - i0 : MR;
        for (long p = 0; p < depth; p++) {
            for (long i = 0; i < height; i++) packed[i] = a[(i0 + i) * lda + p];
            for (long i = height; i < MR; i++) packed[i] = 0;
            packed += MR;
        }
    }
}

/// out[c][r] = in[r][c] for an 8×8 block: rows of `in` are `in_stride` apart, rows of `out` `out_stride`.
__attribute__((target("avx2")))
static void transpose8x8(const float *in, long in_stride, float *out, long out_stride) {
    __m256 r0 = _mm256_loadu_ps(in + 0 * in_stride), r1 = _mm256_loadu_ps(in + 1 * in_stride);
    __m256 r2 = _mm256_loadu_ps(in + 2 * in_stride), r3 = _mm256_loadu_ps(in + 3 * in_stride);
    __m256 r4 = _mm256_loadu_ps(in + 4 * in_stride), r5 = _mm256_loadu_ps(in + 5 * in_stride);
    __m256 r6 = _mm256_loadu_ps(in + 6 * in_stride), r7 = _mm256_loadu_ps(in + 7 * in_stride);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(out + 0 * out_stride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(out + 1 * out_stride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(out + 2 * out_stride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(out + 3 * out_stride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(out + 4 * out_stride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(out + 5 * out_stride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(out + 6 * out_stride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(out + 7 * out_stride, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/// Packs op(b)[depth, cols] into nr-column panels: panel[p][j] = op(b)[p, j], zero past `cols`.
/// op(b)[p, j] is b[j, p] when trans_b (full panels then go through 8×8 transposes), else b[p, j].
static void pack_b(int trans_b, long nr, long depth, long cols, const float *b, long ldb, float *packed) {
    for (long j0 = 0; j0 < cols; j0 += nr) {
        long width = cols - j0 < nr ? cols - j0 : nr;
        long p = 0;
        if (trans_b && width == nr) {
            for (; p + 8 <= depth; p += 8) {
                for (long j = 0; j < nr; j += 8) transpose8x8(b + (j0 + j) * ldb + p, ldb, packed + p * nr + j, nr);
            }
        }
        for (; p < depth; p++) {
            float *row = packed + p * nr;
            if (trans_b) {
                for (long j = 0; j < width; j++) row[j] = b[(j0 + j) * ldb + p];
            } else {
                memcpy(row, b + p * ldb + j0, (size_t)width * sizeof(float));
            }
            for (long j = width; j < nr; j++) row[j] = 0;
        }
        packed += depth * nr;
    }
}

/// Writes c = alpha · tile + beta · c on the top-left `height × width` of an MR × nr tile (beta 0 never reads c).
static void store_partial(const float *tile, long nr, float alpha, float beta, float *c, long ldc, long height, long width) {
    for (long i = 0; i < height; i++) {
        for (long j = 0; j < width; j++) {
            float *target = c + i * ldc + j;
            *target = alpha * tile[i * nr + j] + (beta != 0 ? beta * *target : 0);
        }
    }
}

/// acc[MR, 16] = Σ_p a_panel[p][i] · b_panel[p][j] over `depth` steps, then c = alpha · acc + beta · c
/// on the top-left `height × width` of the tile.
__attribute__((target("avx2,fma")))
static void micro_kernel_avx2(long depth, const float *a, const float *b,
                              float alpha, float beta, float *c, long ldc, long height, long width) {
    enum { NR = 16 };
    __m256 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (long p = 0; p < depth; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR;
        b += NR;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (height == MR && width == NR) {
        for (int i = 0; i < MR; i++) {
            float *row = c + i * ldc;
            __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
            if (beta != 0) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), r1);
            }
            _mm256_storeu_ps(row, r0);
            _mm256_storeu_ps(row + 8, r1);
        }
        return;
    }
    float tile[MR * NR];
    for (int i = 0; i < MR; i++) {
        _mm256_storeu_ps(tile + i * NR, acc[i][0]);
        _mm256_storeu_ps(tile + i * NR + 8, acc[i][1]);
    }
    store_partial(tile, NR, alpha, beta, c, ldc, height, width);
}

/// The AVX-512 twin of micro_kernel_avx2, on MR × 32 tiles.
__attribute__((target("avx512f")))
static void micro_kernel_avx512(long depth, const float *a, const float *b,
                                float alpha, float beta, float *c, long ldc, long height, long width) {
    enum { NR = 32 };
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (long p = 0; p < depth; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR;
        b += NR;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (height == MR && width == NR) {
        for (int i = 0; i < MR; i++) {
            float *row = c + i * ldc;
            __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
            if (beta != 0) {
                r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), r0);
                r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16), r1);
            }
            _mm512_storeu_ps(row, r0);
            _mm512_storeu_ps(row + 16, r1);
        }
        return;
    }
    float tile[MR * NR];
    for (int i = 0; i < MR; i++) {
        _mm512_storeu_ps(tile + i * NR, acc[i][0]);
        _mm512_storeu_ps(tile + i * NR + 16, acc[i][1]);
    }
    store_partial(tile, NR, alpha, beta, c, ldc, height, width);
}

void ck_sgemm(int isa, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb,
              float beta, float *c, long ldc) {
    int wide = isa == CK_AVX512;
    long nr = wide ? 32 : 16;
    // Packing buffers as large as this product needs (sizes in whole 64-byte lines for aligned_alloc).
    long kc = k < KC ? k : KC;
    long mc = ((m < MC ? m : MC) + MR - 1) / MR * MR, nc = ((n < NC ? n : NC) + nr - 1) / nr * nr;
    float *packed_a = aligned_alloc(64, (sizeof(float) * mc * kc + 63) / 64 * 64);
    float *packed_b = aligned_alloc(64, (sizeof(float) * kc * nc + 63) / 64 * 64);
    for (long jc = 0; jc < n; jc += NC) {
        long cols = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += KC) {
            long depth = k - pc < KC ? k - pc : KC;
            // The first block of k scales the old c by beta; later blocks add to it.
            float block_beta = pc == 0 ? beta : 1;
            pack_b(trans_b, nr, depth, cols, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, packed_b);
            for (long ic = 0; ic < m; ic += MC) {
                long rows = m - ic < MC ? m - ic : MC;
                pack_a(rows, depth, a + ic * lda + pc, lda, packed_a);
                for (long jr = 0; jr < cols; jr += nr) {
                    long width = cols - jr < nr ? cols - jr : nr;
                    for (long ir = 0; ir < rows; ir += MR) {
                        long height = rows - ir < MR ? rows - ir : MR;
                        float *tile = c + (ic + ir) * ldc + jc + jr;
                        if (wide) {
                            micro_kernel_avx512(depth, packed_a + ir * depth, packed_b + jr * depth,
                                                alpha, block_beta, tile, ldc, height, width);
                        } else {
                            micro_kernel_avx2(depth, packed_a + ir * depth, packed_b + jr * depth,
                                              alpha, block_beta, tile, ldc, height, width);
                        }
                    }
                }
            }
        }
    }
    free(packed_a);
    free(packed_b);
}
