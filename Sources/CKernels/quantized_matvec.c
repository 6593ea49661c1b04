// Matrix-vector products straight from GGML's Q4_1, Q5_0, Q8_0, Q4_K and Q6_K blocks, so that decoding one
// token reads the weights at 4.5 to 8.5 bits each instead of float32's 32. x stays float32: each block's integers are
// widened to floats and multiplied by x, then by the block's scale, which is the dequantized product up to
// float rounding. The scalar loops are the reference and the fallback; the AVX2 and AVX-512 ones are
// checked against them.
#include "ckernels.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

enum { QK = 32, Q4_1_BYTES = 20, Q5_0_BYTES = 22, Q8_0_BYTES = 34, QK_K = 256, Q4_K_BYTES = 144, Q6_K_BYTES = 210 };

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

// Q5_0 block: half d, 32 high bits (little-endian), 16 bytes of nibbles; value j = d·(q_j − 16), with q_j's
// low four bits as in Q4_1 and its fifth bit j of the high bits.

static float dot_q5_0_scalar(const uint8_t *row, long blocks, const float *x) {
    float sum = 0;
    for (long b = 0; b < blocks; b++, row += Q5_0_BYTES, x += QK) {
        float d = half_to_float(row), qx = 0;
        uint32_t high = (uint32_t)row[2] | (uint32_t)row[3] << 8 | (uint32_t)row[4] << 16 | (uint32_t)row[5] << 24;
        for (int j = 0; j < 16; j++) {
            int q0 = (row[6 + j] & 0x0F) | (int)((high >> j) & 1) << 4;
            int q1 = (row[6 + j] >> 4) | (int)((high >> (j + 16)) & 1) << 4;
            qx += (float)(q0 - 16) * x[j] + (float)(q1 - 16) * x[j + 16];
        }
        sum += d * qx;
    }
    return sum;
}

// Q4_K super-block of 256: half d, half dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
// Sub-block s (32 values) is d·scale_s·q − dmin·min_s, q nibble 4·(s & 1) of byte 32·(s / 2) + j.

static void q4_k_scale_min(const uint8_t *packed, int s, float d, float dmin, float *scale, float *min) {
    uint8_t sc, m;
    if (s < 4) {
        sc = packed[s] & 0x3F;
        m = packed[s + 4] & 0x3F;
    } else {
        sc = (packed[s + 4] & 0x0F) | ((packed[s - 4] >> 2) & 0x30);
        m = (packed[s + 4] >> 4) | ((packed[s] >> 2) & 0x30);
    }
    *scale = d * sc;
    *min = dmin * m;
}

static float dot_q4_k_scalar(const uint8_t *row, long blocks, const float *x) {
    float sum = 0;
    for (long b = 0; b < blocks; b++, row += Q4_K_BYTES, x += QK_K) {
        float d = half_to_float(row), dmin = half_to_float(row + 2);
        for (int s = 0; s < 8; s++) {
            float scale, min, qx = 0, xs = 0;
            q4_k_scale_min(row + 4, s, d, dmin, &scale, &min);
            const uint8_t *q = row + 16 + (s >> 1) * 32;
            int shift = 4 * (s & 1);
            for (int j = 0; j < 32; j++) {
                qx += (float)((q[j] >> shift) & 0x0F) * x[32 * s + j];
                xs += x[32 * s + j];
            }
            sum += scale * qx - min * xs;
        }
    }
    return sum;
}

// Q6_K super-block of 256: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 signed scales, half d.
// Value e is d·scale_{e/16}·(q − 32): with h = e / 128 and r = e % 128, its low nibble is nibble r / 64 of
// ql[64·h + r % 64], its high bits are bits 2·(r / 32) of qh[32·h + r % 32]. Sixteen values share a scale and
// lie in one run of both arrays.

static float dot_q6_k_scalar(const uint8_t *row, long blocks, const float *x) {
    float sum = 0;
    for (long b = 0; b < blocks; b++, row += Q6_K_BYTES, x += QK_K) {
        const uint8_t *ql = row, *qh = row + 128;
        const int8_t *scales = (const int8_t *)(row + 192);
        float d = half_to_float(row + 208);
        for (int g = 0; g < 16; g++) {
            float qx = 0;
            for (int e = 16 * g; e < 16 * g + 16; e++) {
                int h = e >> 7, r = e & 127;
                int low = (ql[64 * h + (r & 63)] >> (4 * (r >> 6))) & 0x0F;
                int high = (qh[32 * h + (r & 31)] >> (2 * (r >> 5))) & 0x03;
                qx += (float)((low | high << 4) - 32) * x[e];
            }
            sum += d * scales[g] * qx;
        }
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

// The vector loops below run two chains of accumulators, for even and odd blocks (or sub-blocks), so that a
// block does not wait for the previous one's fused multiply-adds. A block's work is an always-inlined step
// that adds d·Σ q·x to *acc (and, with an offset, m·Σ x to *off), so the chains stay in registers.
#define INLINE static inline __attribute__((always_inline))

#define TWO_CHAINS(VEC, ZERO, ADD, REDUCE, STEP, BYTES, VALUES)                           \
    VEC acc0 = ZERO, acc1 = ZERO, off0 = ZERO, off1 = ZERO;                                \
    long b = 0;                                                                            \
    for (; b + 1 < blocks; b += 2, row += 2 * (BYTES), x += 2 * (VALUES)) {                \
        STEP(row, x, &acc0, &off0);                                                        \
        STEP(row + (BYTES), x + (VALUES), &acc1, &off1);                                   \
    }                                                                                      \
    if (b < blocks) STEP(row, x, &acc0, &off0);                                            \
    return REDUCE(ADD(ADD(acc0, acc1), ADD(off0, off1)))

/// The low and the high nibbles of 16 bytes, each in the low bits of a byte: values 0–15 and 16–31 of a block.
INLINE void split_nibbles(const uint8_t *bytes, __m128i *lo, __m128i *hi) {
    const __m128i low = _mm_set1_epi8(0x0F);
    __m128i packed = _mm_loadu_si128((const __m128i *)bytes);
    *lo = _mm_and_si128(packed, low);
    *hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low);
}

// AVX2: eight values a vector.

__attribute__((target("avx2,fma,f16c")))
INLINE void step_q4_1_avx2(const uint8_t *block, const float *x, __m256 *acc, __m256 *off) {
    __m128i lo, hi;
    split_nibbles(block + 4, &lo, &hi);
    __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8), x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
    __m256 qx = _mm256_mul_ps(u8_to_ps(lo), x0);
    qx = _mm256_fmadd_ps(u8_to_ps(_mm_srli_si128(lo, 8)), x1, qx);
    qx = _mm256_fmadd_ps(u8_to_ps(hi), x2, qx);
    qx = _mm256_fmadd_ps(u8_to_ps(_mm_srli_si128(hi, 8)), x3, qx);
    __m128 dm = block_halves(block);
    *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dm), qx, *acc);
    *off = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dm)),
                           _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)), *off);
}

/// Eight nibbles (the low bytes of `nibbles`) with their fifth bits from `bits`, minus 16, as floats.
__attribute__((target("avx2,fma")))
INLINE __m256 q5_to_ps(__m128i nibbles, uint32_t bits) {
    const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256i high = _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), lanes), lanes),
                                    _mm256_set1_epi32(16));
    __m256i q = _mm256_or_si256(_mm256_cvtepu8_epi32(nibbles), high);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(16)));
}

__attribute__((target("avx2,fma,f16c")))
INLINE void step_q5_0_avx2(const uint8_t *block, const float *x, __m256 *acc, __m256 *off) {
    (void)off;
    uint32_t high;
    memcpy(&high, block + 2, 4);
    __m128i lo, hi;
    split_nibbles(block + 6, &lo, &hi);
    __m256 qx = _mm256_mul_ps(q5_to_ps(lo, high), _mm256_loadu_ps(x));
    qx = _mm256_fmadd_ps(q5_to_ps(_mm_srli_si128(lo, 8), high >> 8), _mm256_loadu_ps(x + 8), qx);
    qx = _mm256_fmadd_ps(q5_to_ps(hi, high >> 16), _mm256_loadu_ps(x + 16), qx);
    qx = _mm256_fmadd_ps(q5_to_ps(_mm_srli_si128(hi, 8), high >> 24), _mm256_loadu_ps(x + 24), qx);
    *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(block_halves(block)), qx, *acc);
}

__attribute__((target("avx2,fma,f16c")))
INLINE void step_q8_0_avx2(const uint8_t *block, const float *x, __m256 *acc, __m256 *off) {
    (void)off;
    const uint8_t *q = block + 2;
    __m256 qx = _mm256_mul_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)q)), _mm256_loadu_ps(x));
    qx = _mm256_fmadd_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)(q + 8))), _mm256_loadu_ps(x + 8), qx);
    qx = _mm256_fmadd_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)(q + 16))), _mm256_loadu_ps(x + 16), qx);
    qx = _mm256_fmadd_ps(i8_to_ps(_mm_loadl_epi64((const __m128i *)(q + 24))), _mm256_loadu_ps(x + 24), qx);
    *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(block_halves(block)), qx, *acc);
}

/// Sub-block s of a Q4_K super-block: scale·Σ q·x into *acc, −min·Σ x into *off.
__attribute__((target("avx2,fma,f16c")))
INLINE void step_q4_k_sub_avx2(const uint8_t *block, int s, float d, float dmin, const float *x, __m256 *acc, __m256 *off) {
    const __m128i low = _mm_set1_epi8(0x0F);
    float scale, min;
    q4_k_scale_min(block + 4, s, d, dmin, &scale, &min);
    const uint8_t *q = block + 16 + (s >> 1) * 32;
    __m128i shift = _mm_cvtsi32_si128(4 * (s & 1));
    __m128i q0 = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)q), shift), low);
    __m128i q1 = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)(q + 16)), shift), low);
    x += 32 * s;
    __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8), x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
    __m256 qx = _mm256_mul_ps(u8_to_ps(q0), x0);
    qx = _mm256_fmadd_ps(u8_to_ps(_mm_srli_si128(q0, 8)), x1, qx);
    qx = _mm256_fmadd_ps(u8_to_ps(q1), x2, qx);
    qx = _mm256_fmadd_ps(u8_to_ps(_mm_srli_si128(q1, 8)), x3, qx);
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), qx, *acc);
    *off = _mm256_fmadd_ps(_mm256_set1_ps(-min), _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)), *off);
}

/// The sixteen values of a Q6_K scale group g, as unsigned 6-bit integers in bytes.
__attribute__((target("avx2")))
INLINE __m128i q6_k_group(const uint8_t *ql, const uint8_t *qh, int g) {
    int h = g >> 3, r = (g & 7) * 16;
    __m128i low = _mm_loadu_si128((const __m128i *)(ql + 64 * h + (r & 63)));
    __m128i high = _mm_loadu_si128((const __m128i *)(qh + 32 * h + (r & 31)));
    low = _mm_and_si128(_mm_srl_epi16(low, _mm_cvtsi32_si128(4 * (r >> 6))), _mm_set1_epi8(0x0F));
    high = _mm_and_si128(_mm_srl_epi16(high, _mm_cvtsi32_si128(2 * (r >> 5))), _mm_set1_epi8(0x03));
    return _mm_or_si128(low, _mm_slli_epi16(high, 4));
}

/// Scale group g of a Q6_K super-block: d·scale_g·Σ (q − 32)·x into *acc.
__attribute__((target("avx2,fma,f16c")))
INLINE void step_q6_k_group_avx2(const uint8_t *block, int g, float d, const float *x, __m256 *acc) {
    const __m256 bias = _mm256_set1_ps(32);
    __m128i q = q6_k_group(block, block + 128, g);
    __m256 qx = _mm256_mul_ps(_mm256_sub_ps(u8_to_ps(q), bias), _mm256_loadu_ps(x + 16 * g));
    qx = _mm256_fmadd_ps(_mm256_sub_ps(u8_to_ps(_mm_srli_si128(q, 8)), bias), _mm256_loadu_ps(x + 16 * g + 8), qx);
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(d * ((const int8_t *)(block + 192))[g]), qx, *acc);
}

/// A whole K-quant super-block, its sub-blocks (or groups) alternating between the two chains.
__attribute__((target("avx2,fma,f16c")))
INLINE void step_q4_k_avx2(const uint8_t *block, const float *x, __m256 *acc, __m256 *off) {
    __m128 dm = block_halves(block);
    float d = _mm_cvtss_f32(dm), dmin = _mm_cvtss_f32(_mm_movehdup_ps(dm));
    __m256 acc1 = _mm256_setzero_ps(), off1 = _mm256_setzero_ps();
    for (int s = 0; s < 8; s += 2) {
        step_q4_k_sub_avx2(block, s, d, dmin, x, acc, off);
        step_q4_k_sub_avx2(block, s + 1, d, dmin, x, &acc1, &off1);
    }
    *acc = _mm256_add_ps(*acc, acc1);
    *off = _mm256_add_ps(*off, off1);
}

__attribute__((target("avx2,fma,f16c")))
INLINE void step_q6_k_avx2(const uint8_t *block, const float *x, __m256 *acc, __m256 *off) {
    float d = half_to_float(block + 208);
    for (int g = 0; g < 16; g += 2) {
        step_q6_k_group_avx2(block, g, d, x, acc);
        step_q6_k_group_avx2(block, g + 1, d, x, off);
    }
}

#define AVX2_DOT(NAME, STEP, BYTES, VALUES)                                                      \
    __attribute__((target("avx2,fma,f16c")))                                                    \
    static float NAME(const uint8_t *row, long blocks, const float *x) {                         \
        TWO_CHAINS(__m256, _mm256_setzero_ps(), _mm256_add_ps, hsum256, STEP, BYTES, VALUES);    \
    }

AVX2_DOT(dot_q4_1_avx2, step_q4_1_avx2, Q4_1_BYTES, QK)
AVX2_DOT(dot_q5_0_avx2, step_q5_0_avx2, Q5_0_BYTES, QK)
AVX2_DOT(dot_q8_0_avx2, step_q8_0_avx2, Q8_0_BYTES, QK)
AVX2_DOT(dot_q4_k_avx2, step_q4_k_avx2, Q4_K_BYTES, QK_K)
AVX2_DOT(dot_q6_k_avx2, step_q6_k_avx2, Q6_K_BYTES, QK_K)

// AVX-512: sixteen values a vector, so a block of 32 is two.

__attribute__((target("avx512f,f16c")))
INLINE void step_q4_1_avx512(const uint8_t *block, const float *x, __m512 *acc, __m512 *off) {
    __m128i lo, hi;
    split_nibbles(block + 4, &lo, &hi);
    __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    __m512 qx = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), x0);
    qx = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), x1, qx);
    __m128 dm = block_halves(block);
    *acc = _mm512_fmadd_ps(_mm512_broadcastss_ps(dm), qx, *acc);
    *off = _mm512_fmadd_ps(_mm512_broadcastss_ps(_mm_movehdup_ps(dm)), _mm512_add_ps(x0, x1), *off);
}

/// Sixteen nibbles with their fifth bits from the mask `bits`, minus 16, as floats.
__attribute__((target("avx512f")))
INLINE __m512 q5_to_ps512(__m128i nibbles, __mmask16 bits) {
    __m512i q = _mm512_cvtepu8_epi32(nibbles);
    q = _mm512_mask_or_epi32(q, bits, q, _mm512_set1_epi32(16));
    return _mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(16)));
}

__attribute__((target("avx512f,f16c")))
INLINE void step_q5_0_avx512(const uint8_t *block, const float *x, __m512 *acc, __m512 *off) {
    (void)off;
    uint32_t high;
    memcpy(&high, block + 2, 4);
    __m128i lo, hi;
    split_nibbles(block + 6, &lo, &hi);
    __m512 qx = _mm512_mul_ps(q5_to_ps512(lo, (__mmask16)high), _mm512_loadu_ps(x));
    qx = _mm512_fmadd_ps(q5_to_ps512(hi, (__mmask16)(high >> 16)), _mm512_loadu_ps(x + 16), qx);
    *acc = _mm512_fmadd_ps(_mm512_broadcastss_ps(block_halves(block)), qx, *acc);
}

__attribute__((target("avx512f,f16c")))
INLINE void step_q8_0_avx512(const uint8_t *block, const float *x, __m512 *acc, __m512 *off) {
    (void)off;
    const uint8_t *q = block + 2;
    __m512 qx = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q))),
                              _mm512_loadu_ps(x));
    qx = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)))),
                         _mm512_loadu_ps(x + 16), qx);
    *acc = _mm512_fmadd_ps(_mm512_broadcastss_ps(block_halves(block)), qx, *acc);
}

__attribute__((target("avx512f,avx2,fma,f16c")))
INLINE void step_q6_k_avx512(const uint8_t *block, const float *x, __m512 *acc, __m512 *off) {
    const __m512 bias = _mm512_set1_ps(32);
    const int8_t *scales = (const int8_t *)(block + 192);
    float d = half_to_float(block + 208);
    for (int g = 0; g < 16; g++) {
        __m512 q = _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q6_k_group(block, block + 128, g))), bias);
        __m512 *chain = g & 1 ? off : acc;
        *chain = _mm512_fmadd_ps(_mm512_set1_ps(d * scales[g]), _mm512_mul_ps(q, _mm512_loadu_ps(x + 16 * g)), *chain);
    }
}

__attribute__((target("avx512f")))
static float reduce512(__m512 v) { return _mm512_reduce_add_ps(v); }

#define AVX512_DOT(NAME, STEP, BYTES, VALUES)                                                    \
    __attribute__((target("avx512f,avx2,fma,f16c")))                                            \
    static float NAME(const uint8_t *row, long blocks, const float *x) {                         \
        TWO_CHAINS(__m512, _mm512_setzero_ps(), _mm512_add_ps, reduce512, STEP, BYTES, VALUES);  \
    }

AVX512_DOT(dot_q4_1_avx512, step_q4_1_avx512, Q4_1_BYTES, QK)
AVX512_DOT(dot_q5_0_avx512, step_q5_0_avx512, Q5_0_BYTES, QK)
AVX512_DOT(dot_q8_0_avx512, step_q8_0_avx512, Q8_0_BYTES, QK)
AVX512_DOT(dot_q6_k_avx512, step_q6_k_avx512, Q6_K_BYTES, QK_K)

void ck_matvec_quantized(int isa, int format, const void *w, long row_bytes, long rows, long cols,
                         const float *x, float *y) {
    typedef float (*row_dot)(const uint8_t *, long, const float *);
    static const row_dot dots[5][3] = {
        [CK_Q4_1] = {dot_q4_1_scalar, dot_q4_1_avx2, dot_q4_1_avx512},
        [CK_Q5_0] = {dot_q5_0_scalar, dot_q5_0_avx2, dot_q5_0_avx512},
        [CK_Q8_0] = {dot_q8_0_scalar, dot_q8_0_avx2, dot_q8_0_avx512},
        // Q4_K's vector loops do a sub-block at a time either way.
        [CK_Q4_K] = {dot_q4_k_scalar, dot_q4_k_avx2, dot_q4_k_avx2},
        [CK_Q6_K] = {dot_q6_k_scalar, dot_q6_k_avx2, dot_q6_k_avx512},
    };
    row_dot dot = dots[format][isa == CK_AVX512 ? 2 : isa == CK_AVX2 ? 1 : 0];
    long blocks = cols / (format == CK_Q4_K || format == CK_Q6_K ? QK_K : QK);
    const uint8_t *row = (const uint8_t *)w;
    for (long r = 0; r < rows; r++, row += row_bytes) y[r] = dot(row, blocks, x);
}
