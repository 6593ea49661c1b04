// Matrix-vector products straight from GGML's Q4_1 and Q8_0 blocks, so that decoding one token reads the
// weights at 5 or 8.5 bits each instead of float32's 32. x stays float32: each block's integers are
// widened to floats and multiplied by x, then by the block's scale, which is the dequantized product up to
// float rounding. The scalar loops are the reference and the fallback; the AVX2 and AVX-512 ones are
// checked against them.
#include "ckernels.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

enum { QK = 32, Q4_1_BYTES = 20, Q8_0_BYTES = 34 };

/// IEEE half → float, exact (subnormals, infinities and NaN included).
static float half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400)) { mantissa <<= 1; exponent--; }
            bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Q4_1 block: half d, half m, 16 bytes of nibbles; value j = d·q_j + m, with q_j the low nibble of byte j
// for j < 16 and the high nibble of byte j − 16 after.

static float dot_q4_1_scalar(const uint8_t *row, long blocks, const float *x) {
    float sum = 0;
    for (long b = 0; b < blocks; b++, row += Q4_1_BYTES, x += QK) {
        float d = half_to_float(row), m = half_to_float(row + 2), qx = 0, xs = 0;
        for (int j = 0; j < 16; j++) {
            qx += (float)(row[4 + j] & 0x0F) * x[j] + (float)(row[4 + j] >> 4) * x[j + 16];
            xs += x[j] + x[j + 16];
        }
        sum += d * qx + m * xs;
    }
    return sum;
}

static float dot_q8_0_scalar(const uint8_t *row, long blocks, const float *x) {
    float sum = 0;
    for (long b = 0; b < blocks; b++, row += Q8_0_BYTES, x += QK) {
        float d = half_to_float(row), qx = 0;
        for (int j = 0; j < QK; j++) qx += (float)(int8_t)row[2 + j] * x[j];
        sum += d * qx;
    }
    return sum;
}

__attribute__((target("avx2,fma")))
static float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Eight bytes as eight floats, unsigned or signed.
__attribute__((target("avx2,fma")))
static __m256 u8_to_ps(__m128i bytes) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)); }

__attribute__((target("avx2,fma")))
static __m256 i8_to_ps(__m128i bytes) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)); }

/// The half scale d (and, for Q4_1, the half offset m after it) of a block, as floats.
__attribute__((target("avx2,fma,f16c")))
static __m128 block_halves(const uint8_t *block) {
    uint32_t halves;
    memcpy(&halves, block, 4);
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)halves));
}

// The vector loops keep two sets of accumulators, for even and odd blocks, so that consecutive blocks do
// not wait for each other's fused multiply-adds.

__attribute__((target("avx2,fma,f16c")))
static float dot_q4_1_avx2(const uint8_t *row, long blocks, const float *x) {
    const __m128i low = _mm_set1_epi8(0x0F);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, offsets[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (long b = 0; b < blocks; b++, row += Q4_1_BYTES, x += QK) {
        __m128i packed = _mm_loadu_si128((const __m128i *)(row + 4));
        __m128i lo = _mm_and_si128(packed, low), hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low);
        __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8), x2 = _mm256_loadu_ps(x + 16),
               x3 = _mm256_loadu_ps(x + 24);
        __m256 qx = _mm256_mul_ps(u8_to_ps(lo), x0);
        qx = _mm256_fmadd_ps(u8_to_ps(_mm_srli_si128(lo, 8)), x1, qx);
        qx = _mm256_fmadd_ps(u8_to_ps(hi), x2, qx);
        qx = _mm256_fmadd_ps(u8_to_ps(_mm_srli_si128(hi, 8)), x3, qx);
        __m256 xs = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3));
        __m128 dm = block_halves(row);
        acc[b & 1] = _mm256_fmadd_ps(_mm256_broadcastss_ps(dm), qx, acc[b & 1]);
        offsets[b & 1] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dm)), xs, offsets[b & 1]);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc[0], offsets[0]), _mm256_add_ps(acc[1], offsets[1])));
}

__attribute__((target("avx2,fma,f16c")))
static float dot_q8_0_avx2(const uint8_t *row, long blocks, const float *x) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (long b = 0; b < blocks; b++, row += Q8_0_BYTES, x += QK) {
        const uint8_t *q = row + 2;
        __m256 qx = _mm256_mul_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)q)), _mm256_loadu_ps(x));
        qx = _mm256_fmadd_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)(q + 8))), _mm256_loadu_ps(x + 8), qx);
        qx = _mm256_fmadd_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)(q + 16))), _mm256_loadu_ps(x + 16), qx);
        qx = _mm256_fmadd_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)(q + 24))), _mm256_loadu_ps(x + 24), qx);
        acc[b & 1] = _mm256_fmadd_ps(_mm256_broadcastss_ps(block_halves(row)), qx, acc[b & 1]);
    }
    return hsum256(_mm256_add_ps(acc[0], acc[1]));
}

// AVX-512: sixteen values a vector, so a block is two.

__attribute__((target("avx512f,f16c")))
static float dot_q4_1_avx512(const uint8_t *row, long blocks, const float *x) {
    const __m128i low = _mm_set1_epi8(0x0F);
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, offsets[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    for (long b = 0; b < blocks; b++, row += Q4_1_BYTES, x += QK) {
        __m128i packed = _mm_loadu_si128((const __m128i *)(row + 4));
        __m128i lo = _mm_and_si128(packed, low), hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low);
        __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
        __m512 qx = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), x0);
        qx = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), x1, qx);
        __m128 dm = block_halves(row);
        acc[b & 1] = _mm512_fmadd_ps(_mm512_set1_ps(_mm_cvtss_f32(dm)), qx, acc[b & 1]);
        offsets[b & 1] = _mm512_fmadd_ps(_mm512_set1_ps(_mm_cvtss_f32(_mm_movehdup_ps(dm))), _mm512_add_ps(x0, x1),
                                         offsets[b & 1]);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], offsets[0]), _mm512_add_ps(acc[1], offsets[1])));
}

__attribute__((target("avx512f,f16c")))
static float dot_q8_0_avx512(const uint8_t *row, long blocks, const float *x) {
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    for (long b = 0; b < blocks; b++, row += Q8_0_BYTES, x += QK) {
        const uint8_t *q = row + 2;
        __m512 qx = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q))),
                                  _mm512_loadu_ps(x));
        qx = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)))),
                             _mm512_loadu_ps(x + 16), qx);
        acc[b & 1] = _mm512_fmadd_ps(_mm512_set1_ps(_mm_cvtss_f32(block_halves(row))), qx, acc[b & 1]);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1]));
}

void ck_matvec_quantized(int isa, int format, const void *w, long row_bytes, long rows, long cols,
                         const float *x, float *y) {
    typedef float (*row_dot)(const uint8_t *, long, const float *);
    static const row_dot dots[2][3] = {
        {dot_q4_1_scalar, dot_q4_1_avx2, dot_q4_1_avx512},
        {dot_q8_0_scalar, dot_q8_0_avx2, dot_q8_0_avx512},
    };
    row_dot dot = dots[format == CK_Q4_1 ? 0 : 1][isa == CK_AVX512 ? 2 : isa == CK_AVX2 ? 1 : 0];
    long blocks = cols / QK;
    const uint8_t *row = (const uint8_t *)w;
    for (long r = 0; r < rows; r++, row += row_bytes) y[r] = dot(row, blocks, x);
}
