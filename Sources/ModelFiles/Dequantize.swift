import Dispatch

// Block layouts and arithmetic follow gguf-py's `gguf.quants.dequantize`, operation for operation in
// float32 (products and sums rounded separately, never fused), so results match it bit for bit.

extension GGMLType {
    /// Converts `source`, whole blocks of this type, to float32 in `destination`.
    /// `destination.count` must be a whole number of blocks and `source` exactly their bytes.
    /// Large inputs are split over all cores.
    public func dequantize(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard let kernel = blockKernel else {
            throw ModelFileError.unsupportedTensorType(tensor: nil, type: description)
        }
        precondition(destination.count % blockSize == 0, "\(destination.count) elements are not whole \(name) blocks")
        let blocks = destination.count / blockSize
        precondition(source.count == blocks * bytesPerBlock, "\(source.count) bytes do not hold \(blocks) \(name) blocks")
        guard blocks > 0, let input = source.baseAddress, let output = destination.baseAddress else { return }

        let elementsPerChunk = 1 << 16
        let blocksPerChunk = max(1, elementsPerChunk / blockSize)
        let chunks = (blocks + blocksPerChunk - 1) / blocksPerChunk
        let bytesPerBlock = bytesPerBlock, blockSize = blockSize
        let work = { (chunk: Int) in
            let first = chunk * blocksPerChunk
            kernel(input + first * bytesPerBlock, output + first * blockSize, min(blocksPerChunk, blocks - first))
        }
        if chunks == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: work) }
    }

    /// Converts `blocks` consecutive blocks from `source` into `destination`.
    typealias BlockKernel = (_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) -> Void

    var blockKernel: BlockKernel? {
        switch self {
        case .f32: return { src, dst, n in UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4) }
        case .f16: return dequantizeF16
        case .bf16: return dequantizeBF16
        case .q4_0: return dequantizeQ4_0
        case .q4_1: return dequantizeQ4_1
        case .q5_0: return dequantizeQ5_0
        case .q5_1: return dequantizeQ5_1
        case .q8_0: return dequantizeQ8_0
        case .q2_K: return dequantizeQ2_K
        case .q3_K: return dequantizeQ3_K
        case .q4_K: return dequantizeQ4_K
        case .q5_K: return dequantizeQ5_K
        case .q6_K: return dequantizeQ6_K
        default: return nil
        }
    }
}

/// IEEE half precision bits to float32, exactly (NaN payloads kept, as numpy does).
@inline(__always)
func floatFromHalf(_ half: UInt16) -> Float {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = UInt32(half >> 10) & 0x1F
    let mantissa = UInt32(half & 0x3FF)
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    if exponent == 0 {
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

@inline(__always)
private func half(_ bytes: UnsafePointer<UInt8>, _ offset: Int) -> Float {
    floatFromHalf(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
}

private func bytes(_ pointer: UnsafeRawPointer) -> UnsafePointer<UInt8> {
    pointer.assumingMemoryBound(to: UInt8.self)
}

private func dequantizeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let b = bytes(src)
    for i in 0..<count { dst[i] = half(b, 2 * i) }
}

private func dequantizeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let b = bytes(src)
    for i in 0..<count { dst[i] = Float(bitPattern: UInt32(b[2 * i]) << 16 | UInt32(b[2 * i + 1]) << 24) }
}

/// 2-byte scale d, 16 bytes of 4-bit values: x = d · (q − 8). Low nibbles are elements 0…15.
private func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 18, y = dst + block * 32
        let d = half(b, 0)
        for j in 0..<16 {
            y[j] = d * Float(Int32(b[2 + j] & 0x0F) - 8)
            y[j + 16] = d * Float(Int32(b[2 + j] >> 4) - 8)
        }
    }
}

/// Scale d, minimum m, 16 bytes of 4-bit values: x = d · q + m.
private func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 20, y = dst + block * 32
        let d = half(b, 0), m = half(b, 2)
        for j in 0..<16 {
            y[j] = d * Float(b[4 + j] & 0x0F) + m
            y[j + 16] = d * Float(b[4 + j] >> 4) + m
        }
    }
}

@inline(__always)
private func loadUInt32(_ b: UnsafePointer<UInt8>, _ offset: Int) -> UInt32 {
    UInt32(b[offset]) | UInt32(b[offset + 1]) << 8 | UInt32(b[offset + 2]) << 16 | UInt32(b[offset + 3]) << 24
}

/// Scale d, 32 high bits, 16 bytes of low nibbles: x = d · ((low | high << 4) − 16).
private func dequantizeQ5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 22, y = dst + block * 32
        let d = half(b, 0)
        let high = loadUInt32(b, 2)
        for j in 0..<16 {
            let low0 = UInt32(b[6 + j] & 0x0F), low1 = UInt32(b[6 + j] >> 4)
            let q0 = low0 | ((high >> UInt32(j)) & 1) << 4
            let q1 = low1 | ((high >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(Int32(q0) - 16)
            y[j + 16] = d * Float(Int32(q1) - 16)
        }
    }
}

/// Scale d, minimum m, 32 high bits, 16 bytes of low nibbles: x = d · (low | high << 4) + m.
private func dequantizeQ5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 24, y = dst + block * 32
        let d = half(b, 0), m = half(b, 2)
        let high = loadUInt32(b, 4)
        for j in 0..<16 {
            let low0 = UInt32(b[8 + j] & 0x0F), low1 = UInt32(b[8 + j] >> 4)
            let q0 = low0 | ((high >> UInt32(j)) & 1) << 4
            let q1 = low1 | ((high >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(q0) + m
            y[j + 16] = d * Float(q1) + m
        }
    }
}

/// Scale d, 32 signed bytes: x = q · d.
private func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 34, y = dst + block * 32
        let d = half(b, 0)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: b[2 + j])) * d }
    }
}

/// 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit values, d, dmin.
/// Element e = 128·half + 32·shift + j takes bits `2·shift` of byte `32·half + j`.
private func dequantizeQ2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 84, y = dst + block * 256
        let scales = b, qs = b + 16
        let d = half(b, 80), dmin = half(b, 82)
        for group in 0..<16 {
            let s = scales[group]
            let dl = d * Float(s & 0x0F), ml = dmin * Float(s >> 4)
            for e in group * 16..<group * 16 + 16 {
                let q = (qs[(e >> 7) * 32 + (e & 31)] >> UInt8(2 * ((e & 127) >> 5))) & 3
                y[e] = dl * Float(q) - ml
            }
        }
    }
}

/// 32 bytes of high-bit masks, 64 bytes of 2-bit values, 12 bytes of packed 6-bit scales, d.
/// x = d·(scale − 32) · (low − 4·(1 − high)).
private func dequantizeQ3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    var dl = [Float](repeating: 0, count: 16)
    dl.withUnsafeMutableBufferPointer { dl in
        for block in 0..<blocks {
            let b = bytes(src) + block * 110, y = dst + block * 256
            let hmask = b, qs = b + 32, sc = b + 96
            let d = half(b, 108)
            for k in 0..<16 {
                let low = (sc[k & 7] >> UInt8(4 * (k >> 3))) & 0x0F
                let high = (sc[8 + (k & 3)] >> UInt8(2 * (k >> 2))) & 0x03
                dl[k] = d * Float(Int32(low | high << 4) - 32)
            }
            for e in 0..<256 {
                let low = (qs[(e >> 7) * 32 + (e & 31)] >> UInt8(2 * ((e & 127) >> 5))) & 3
                let high = (hmask[e & 31] >> UInt8(e >> 5)) & 1
                let q = Int32(low) - Int32((high ^ 1) << 2)
                y[e] = dl[e >> 4] * Float(q)
            }
        }
    }
}

/// The eight 6-bit scales and mins packed in 12 bytes, shared by Q4_K and Q5_K.
@inline(__always)
private func scaleAndMin(_ s: UnsafePointer<UInt8>, _ j: Int) -> (scale: UInt8, min: UInt8) {
    if j < 4 { return (s[j] & 0x3F, s[j + 4] & 0x3F) }
    return ((s[j + 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30), (s[j + 4] >> 4) | ((s[j] >> 2) & 0x30))
}

/// d, dmin, 12 bytes of scales and mins, 128 bytes of nibbles: x = d·scale · q − dmin·min.
/// Element e = 64·chunk + 32·shift + j takes nibble `shift` of byte `32·chunk + j`.
private func dequantizeQ4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 144, y = dst + block * 256
        let d = half(b, 0), dmin = half(b, 2)
        let qs = b + 16
        for sub in 0..<8 {
            let (scale, min) = scaleAndMin(b + 4, sub)
            let ds = d * Float(scale), dm = dmin * Float(min)
            let source = qs + (sub >> 1) * 32, shift = UInt8(4 * (sub & 1))
            let out = y + sub * 32
            for j in 0..<32 { out[j] = ds * Float((source[j] >> shift) & 0x0F) - dm }
        }
    }
}

/// As Q4_K, with a fifth bit per element from 32 bytes of masks (bit e/32 of byte e%32).
private func dequantizeQ5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 176, y = dst + block * 256
        let d = half(b, 0), dmin = half(b, 2)
        let qh = b + 16, qs = b + 48
        for sub in 0..<8 {
            let (scale, min) = scaleAndMin(b + 4, sub)
            let ds = d * Float(scale), dm = dmin * Float(min)
            let source = qs + (sub >> 1) * 32, shift = UInt8(4 * (sub & 1))
            let out = y + sub * 32
            for j in 0..<32 {
                let q = ((source[j] >> shift) & 0x0F) | ((qh[j] >> UInt8(sub)) & 1) << 4
                out[j] = ds * Float(q) - dm
            }
        }
    }
}

/// 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 signed scales, d: x = d·scale · (q − 32).
private func dequantizeQ6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for block in 0..<blocks {
        let b = bytes(src) + block * 210, y = dst + block * 256
        let ql = b, qh = b + 128, scales = b + 192
        let d = half(b, 208)
        for group in 0..<16 {
            let ds = d * Float(Int8(bitPattern: scales[group]))
            for e in group * 16..<group * 16 + 16 {
                let halfIndex = e >> 7, r = e & 127
                let low = (ql[halfIndex * 64 + (r & 63)] >> UInt8(4 * (r >> 6))) & 0x0F
                let high = (qh[halfIndex * 32 + (r & 31)] >> UInt8(2 * (r >> 5))) & 0x03
                y[e] = ds * Float(Int32(low | high << 4) - 32)
            }
        }
    }
}
