/// A token the client chooses to match `$/progress` notifications to its request.
public enum ProgressToken: Codable, Sendable, Hashable {
    case integer(Int)
    case string(String)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .integer(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        }
    }
}

/// One step of progress, told apart on the wire by `kind`.
public enum WorkDoneProgress: Codable, Sendable, Equatable {
    case begin(WorkDoneProgressBegin)
    case report(WorkDoneProgressReport)
    case end(WorkDoneProgressEnd)

    private enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let kind = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .kind)
        switch kind {
        case "begin": self = .begin(try WorkDoneProgressBegin(from: decoder))
        case "report": self = .report(try WorkDoneProgressReport(from: decoder))
        case "end": self = .end(try WorkDoneProgressEnd(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [CodingKeys.kind],
                debugDescription: "unknown progress kind \"\(kind)\"; expected begin, report or end"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .begin(let value): try value.encode(to: encoder)
        case .report(let value): try value.encode(to: encoder)
        case .end(let value): try value.encode(to: encoder)
        }
    }
}

/// The first progress of a request. Encodes with `"kind": "begin"`.
public struct WorkDoneProgressBegin: Codable, Sendable, Equatable {
    public var title: String
    public var message: String?
    /// 0…100.
    public var percentage: Int?

    public init(title: String, message: String? = nil, percentage: Int? = nil) {
        self.title = title
        self.message = message
        self.percentage = percentage
    }

    private enum CodingKeys: String, CodingKey { case kind, title, message, percentage }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try expectKind("begin", in: container, key: .kind)
        title = try container.decode(String.self, forKey: .title)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        percentage = try container.decodeIfPresent(Int.self, forKey: .percentage)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("begin", forKey: .kind)
        try container.encode(title, forKey: .title)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(percentage, forKey: .percentage)
    }
}

/// A progress report. Encodes with `"kind": "report"`.
public struct WorkDoneProgressReport: Codable, Sendable, Equatable {
    public var message: String?
    /// 0…100.
    public var percentage: Int?

    public init(message: String? = nil, percentage: Int? = nil) {
        self.message = message
        self.percentage = percentage
    }

    private enum CodingKeys: String, CodingKey { case kind, message, percentage }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try expectKind("report", in: container, key: .kind)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        percentage = try container.decodeIfPresent(Int.self, forKey: .percentage)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("report", forKey: .kind)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(percentage, forKey: .percentage)
    }
}

/// The last progress of a request. Encodes with `"kind": "end"`.
public struct WorkDoneProgressEnd: Codable, Sendable, Equatable {
    public var message: String?

    public init(message: String? = nil) { self.message = message }

    private enum CodingKeys: String, CodingKey { case kind, message }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try expectKind("end", in: container, key: .kind)
        message = try container.decodeIfPresent(String.self, forKey: .message)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("end", forKey: .kind)
        try container.encodeIfPresent(message, forKey: .message)
    }
}

private func expectKind<Key: CodingKey>(_ expected: String, in container: KeyedDecodingContainer<Key>, key: Key) throws {
    let kind = try container.decode(String.self, forKey: key)
    guard kind == expected else {
        throw DecodingError.dataCorruptedError(forKey: key, in: container,
                                               debugDescription: "expected kind \"\(expected)\", got \"\(kind)\"")
    }
}
