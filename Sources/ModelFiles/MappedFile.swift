import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory; unmapped when released.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(url: URL) throws {
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelFileError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw ModelFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ModelFileError.cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw ModelFileError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// A bounds-checked little-endian reader over a byte buffer. Running past the end throws `truncated`.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var section: FileSection

    init(bytes: UnsafeRawBufferPointer, section: FileSection) {
        self.bytes = bytes
        self.section = section
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int) throws {
        guard count >= 0, count <= remaining else {
            let end = count >= 0 && count <= Int.max - offset ? offset + count : Int.max
            throw ModelFileError.truncated(section: section, offset: end, fileSize: bytes.count)
        }
    }

    /// Throws unless `count` items of at least `size` bytes each could still fit.
    func require(count: UInt64, itemsOf size: Int) throws {
        guard count <= UInt64(remaining / size) else {
            let claimed = count.multipliedReportingOverflow(by: UInt64(size))
            let end = claimed.overflow || claimed.partialValue > UInt64(Int.max - offset) ? Int.max : offset + Int(claimed.partialValue)
            throw ModelFileError.truncated(section: section, offset: end, fileSize: bytes.count)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try require(MemoryLayout<T>.size)
        let value = bytes.baseAddress!.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        try require(count)
        guard count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let slice = UnsafeRawBufferPointer(start: bytes.baseAddress! + offset, count: count)
        offset += count
        return slice
    }

    /// A GGUF string: a 64-bit length, then that many UTF-8 bytes (invalid sequences become U+FFFD).
    mutating func readString() throws -> String {
        let length = try read(UInt64.self)
        try require(count: length, itemsOf: 1)
        return String(decoding: try readBytes(Int(length)), as: UTF8.self)
    }
}
