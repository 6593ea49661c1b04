/// Encodes `Encodable` values to `JSONValue`.
///
/// Optionals encoded with `encodeIfPresent` (what synthesised conformances do) are left out when nil.
/// Integers must fit in Int64. NaN and infinities throw `EncodingError.invalidValue`, since JSON cannot
/// carry them: the protocol layer decides how such values are shown. A value that encodes nothing
/// becomes `{}`.
public struct JSONValueEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try ValueEncoder.box(value, codingPath: []).resolved
    }
}

// MARK: - Storage

/// Encoded output. Containers are classes so a nested container handed out earlier can still be filled.
private enum Slot {
    case value(JSONValue)
    case object(ObjectNode)
    case array(ArrayNode)
    /// A `superEncoder`, which its caller fills in after we hand it out.
    case deferred(ValueEncoder)

    var resolved: JSONValue {
        switch self {
        case .value(let value): value
        case .object(let node): .object(node.members.mapValues(\.resolved))
        case .array(let node): .array(node.elements.map(\.resolved))
        case .deferred(let encoder): encoder.slot?.resolved ?? .object([:])
        }
    }
}

private final class ObjectNode {
    var members: [String: Slot] = [:]
}

private final class ArrayNode {
    var elements: [Slot] = []
}

// MARK: - Encoder

private final class ValueEncoder: Encoder {
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What has been encoded so far; nil until something is.
    var slot: Slot?

    init(codingPath: [CodingKey]) {
        self.codingPath = codingPath
    }

    /// Encodes one value, taking the shortcut for values that already are JSON.
    static func box<T: Encodable>(_ value: T, codingPath: [CodingKey]) throws -> Slot {
        if let json = value as? JSONValue { return .value(json) }
        let encoder = ValueEncoder(codingPath: codingPath)
        try value.encode(to: encoder)
        return encoder.slot ?? .value(.object([:]))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node: ObjectNode
        if case .object(let existing) = slot {
            node = existing
        } else {
            node = ObjectNode()
            slot = .object(node)
        }
        return KeyedEncodingContainer(KeyedContainer(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let node: ArrayNode
        if case .array(let existing) = slot {
            node = existing
        } else {
            node = ArrayNode()
            slot = .array(node)
        }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }
}

// MARK: - Primitives

private func integer<T: BinaryInteger>(_ value: T, at codingPath: [CodingKey]) throws -> JSONValue {
    guard let exact = Int64(exactly: value) else {
        throw EncodingError.invalidValue(
            value, .init(codingPath: codingPath, debugDescription: "\(value) does not fit in a 64-bit signed integer"))
    }
    return .integer(exact)
}

private func double(_ value: Double, at codingPath: [CodingKey]) throws -> JSONValue {
    guard value.isFinite else {
        throw EncodingError.invalidValue(
            value, .init(codingPath: codingPath, debugDescription: "\(value) cannot be represented in JSON"))
    }
    return .double(value)
}

/// A Float is written as the double nearest its shortest decimal form, so 0.1 as Float reads back as 0.1
/// rather than 0.10000000149011612, and converting that double back to Float restores the value exactly.
private func float(_ value: Float, at codingPath: [CodingKey]) throws -> JSONValue {
    guard value.isFinite else {
        throw EncodingError.invalidValue(
            value, .init(codingPath: codingPath, debugDescription: "\(value) cannot be represented in JSON"))
    }
    return .double(Double(value.description)!)
}

// MARK: - Containers

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: ObjectNode
    let codingPath: [CodingKey]

    private func set(_ value: JSONValue, _ key: Key) {
        node.members[key.stringValue] = .value(value)
    }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        set(try double(value, at: codingPath + [key]), key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        set(try float(value, at: codingPath + [key]), key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(try integer(value, at: codingPath + [key]), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.members[key.stringValue] = try ValueEncoder.box(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectNode()
        node.members[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let nested = ArrayNode()
        node.members[key.stringValue] = .array(nested)
        return UnkeyedContainer(node: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> Encoder {
        superEncoder(named: "super")
    }

    mutating func superEncoder(forKey key: Key) -> Encoder {
        superEncoder(named: key.stringValue, key: key)
    }

    private func superEncoder(named name: String, key: CodingKey? = nil) -> Encoder {
        let encoder = ValueEncoder(codingPath: codingPath + [key ?? NameKey(name)])
        node.members[name] = .deferred(encoder)
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: ArrayNode
    let codingPath: [CodingKey]
    var count: Int { node.elements.count }

    private var nextPath: [CodingKey] { codingPath + [IndexKey(count)] }

    private func append(_ value: JSONValue) {
        node.elements.append(.value(value))
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try double(value, at: nextPath)) }
    mutating func encode(_ value: Float) throws { append(try float(value, at: nextPath)) }
    mutating func encode(_ value: Int) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: Int8) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: Int16) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: Int32) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: Int64) throws { append(.integer(value)) }
    mutating func encode(_ value: UInt) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: UInt8) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: UInt16) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: UInt32) throws { append(try integer(value, at: nextPath)) }
    mutating func encode(_ value: UInt64) throws { append(try integer(value, at: nextPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        node.elements.append(try ValueEncoder.box(value, codingPath: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectNode()
        let path = nextPath
        node.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let nested = ArrayNode()
        let path = nextPath
        node.elements.append(.array(nested))
        return UnkeyedContainer(node: nested, codingPath: path)
    }

    mutating func superEncoder() -> Encoder {
        let encoder = ValueEncoder(codingPath: nextPath)
        node.elements.append(.deferred(encoder))
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    private func set(_ value: JSONValue) {
        encoder.slot = .value(value)
    }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try double(value, at: codingPath)) }
    mutating func encode(_ value: Float) throws { set(try float(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: Int8) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: Int16) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: Int32) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: Int64) throws { set(.integer(value)) }
    mutating func encode(_ value: UInt) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: UInt8) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: UInt16) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: UInt32) throws { set(try integer(value, at: codingPath)) }
    mutating func encode(_ value: UInt64) throws { set(try integer(value, at: codingPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.slot = try ValueEncoder.box(value, codingPath: codingPath)
    }
}
