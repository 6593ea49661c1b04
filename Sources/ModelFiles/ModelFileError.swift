/// The part of a model file where reading stopped.
public enum FileSection: String, Sendable {
    case header
    case metadata
    case tensorInfo = "tensor infos"
    case tensorData = "tensor data"
}

/// Why a model file could not be read. Every malformed input ends in one of these, never in a crash.
public enum ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The first bytes are not the format's magic.
    case badMagic(found: [UInt8])
    /// A GGUF version this reader does not understand.
    case unsupportedVersion(UInt32)
    /// The file ends (at `fileSize`) before a section that needs bytes up to at least `offset`.
    case truncated(section: FileSection, offset: Int, fileSize: Int)
    /// A metadata entry is malformed (unknown value type, nesting too deep, duplicate key…).
    case invalidMetadata(key: String, reason: String)
    /// A tensor description is malformed (too many dimensions, sizes that overflow, duplicate name…).
    case invalidTensorInfo(tensor: String, reason: String)
    /// A tensor's type is unknown or cannot be converted to float32; `tensor` is nil when unnamed.
    case unsupportedTensorType(tensor: String?, type: String)
    /// A tensor's bytes `start..<end` do not lie inside the file.
    case tensorOutsideFile(tensor: String, start: Int, end: Int, fileSize: Int)
    /// No tensor has this name.
    case missingTensor(String)
    /// No metadata entry has this key.
    case missingMetadata(key: String)
    /// The metadata entry exists but holds another type than the caller asked for.
    case metadataTypeMismatch(key: String, expected: String, found: String)
    /// A safetensors header is not the JSON it should be.
    case invalidHeader(reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open \(path): \(reason)"
        case let .badMagic(found):
            let hex = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "not a model file of the expected format: the file starts with bytes [\(hex)]"
        case let .unsupportedVersion(version):
            return "unsupported GGUF version \(version) (supported: 2 and 3)"
        case let .truncated(section, offset, fileSize):
            return "truncated file: the \(section.rawValue) need bytes up to offset \(offset), but the file has \(fileSize) bytes"
        case let .invalidMetadata(key, reason):
            return "invalid metadata entry '\(key)': \(reason)"
        case let .invalidTensorInfo(tensor, reason):
            return "invalid description of tensor '\(tensor)': \(reason)"
        case let .unsupportedTensorType(tensor, type):
            if let tensor { return "tensor '\(tensor)' has unsupported type \(type)" }
            return "unsupported tensor type \(type)"
        case let .tensorOutsideFile(tensor, start, end, fileSize):
            return "tensor '\(tensor)' occupies bytes \(start)..<\(end), outside the file of \(fileSize) bytes"
        case let .missingTensor(name):
            return "no tensor named '\(name)'"
        case let .missingMetadata(key):
            return "missing metadata key '\(key)'"
        case let .metadataTypeMismatch(key, expected, found):
            return "metadata key '\(key)' holds \(found), expected \(expected)"
        case let .invalidHeader(reason):
            return "invalid safetensors header: \(reason)"
        }
    }
}
