/// Decodes `Decodable` values from `JSONValue`.
///
/// Errors are `DecodingError`s whose coding path leads to the offending value and whose description says
/// what was expected and what was found ("expected string, found integer"); `pathDescription(root:)`
/// renders both. Unknown object members are ignored. Integers accept integral numbers such as `3.0`;
/// floating-point types accept integers.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder.unbox(value, as: type, codingPath: [])
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Decodes one value, taking the shortcut for `JSONValue` itself.
    static func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, codingPath: [CodingKey]) throws -> T {
        if type == JSONValue.self { return value as! T }
        return try T(from: ValueDecoder(value: value, codingPath: codingPath))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw mismatch([String: JSONValue].self, expected: "object", found: value, at: codingPath)
        }
        return KeyedDecodingContainer(KeyedContainer(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw mismatch([JSONValue].self, expected: "array", found: value, at: codingPath)
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleValueContainer(value: value, codingPath: codingPath)
    }
}

// MARK: - Primitives

private func mismatch(_ type: Any.Type, expected: String, found value: JSONValue, at codingPath: [CodingKey])
    -> DecodingError
{
    let context = DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.typeName)")
    return value == .null ? .valueNotFound(type, context) : .typeMismatch(type, context)
}

private func bool(_ value: JSONValue, at codingPath: [CodingKey]) throws -> Bool {
    guard case .bool(let bool) = value else { throw mismatch(Bool.self, expected: "boolean", found: value, at: codingPath) }
    return bool
}

private func string(_ value: JSONValue, at codingPath: [CodingKey]) throws -> String {
    guard case .string(let string) = value else {
        throw mismatch(String.self, expected: "string", found: value, at: codingPath)
    }
    return string
}

private func double(_ value: JSONValue, at codingPath: [CodingKey]) throws -> Double {
    switch value {
    case .double(let double): return double
    case .integer(let integer): return Double(integer)
    default: throw mismatch(Double.self, expected: "number", found: value, at: codingPath)
    }
}

private func float(_ value: JSONValue, at codingPath: [CodingKey]) throws -> Float {
    let double = try double(value, at: codingPath)
    guard abs(double) <= Double(Float.greatestFiniteMagnitude) else {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(double) is out of range for Float"))
    }
    return Float(double)
}

private func integer<T: FixedWidthInteger>(_ value: JSONValue, as type: T.Type, at codingPath: [CodingKey]) throws -> T {
    let (result, number): (T?, String)
    switch value {
    case .integer(let integer):
        (result, number) = (T(exactly: integer), "\(integer)")
    case .double(let double) where double.rounded() == double:
        (result, number) = (T(exactly: double), "\(double)")
    default:
        throw mismatch(T.self, expected: "integer", found: value, at: codingPath)
    }
    guard let result else {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(number) is out of range for \(T.self)"))
    }
    return result
}

// MARK: - Containers

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "required but missing"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try bool(member(key), at: codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try string(member(key), at: codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try double(member(key), at: codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try float(member(key), at: codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(member(key), as: type, at: codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(member(key), as: type, at: codingPath + [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try ValueDecoder.unbox(member(key), as: type, codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        ValueDecoder(value: members["super"] ?? .null, codingPath: codingPath + [NameKey("super")])
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        ValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [CodingKey]
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var currentPath: [CodingKey] { codingPath + [IndexKey(currentIndex)] }

    /// The next element, without consuming it.
    private func peek(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: currentPath, debugDescription: "array has only \(elements.count) elements"))
        }
        return elements[currentIndex]
    }

    /// Decodes the next element and moves past it only if that succeeded.
    private mutating func next<T>(_ type: T.Type, _ decode: (JSONValue, [CodingKey]) throws -> T) throws -> T {
        let result = try decode(peek(type), currentPath)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard try peek(Never.self) == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, bool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type, string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type, double) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type, float) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try integer($0, as: type, at: $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try integer($0, as: type, at: $1) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { try ValueDecoder.unbox($0, as: type, codingPath: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(KeyedDecodingContainer<NestedKey>.self) { try ValueDecoder(value: $0, codingPath: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try next(UnkeyedDecodingContainer.self) { try ValueDecoder(value: $0, codingPath: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> Decoder {
        try next(Decoder.self) { ValueDecoder(value: $0, codingPath: $1) }
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try bool(value, at: codingPath) }
    func decode(_ type: String.Type) throws -> String { try string(value, at: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try double(value, at: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try float(value, at: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try integer(value, as: type, at: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(value, as: type, at: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(value, as: type, at: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(value, as: type, at: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try ValueDecoder.unbox(value, as: type, codingPath: codingPath)
    }
}
