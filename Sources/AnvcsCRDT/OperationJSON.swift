import FoundationEssentials

/// JSON wire form: `{"id": "agent:seq", "ts": 3, "type": "insert", "pos": 0, "text": "hi",
/// "origin": "agent", "parents": ["other:7"]}`; deletions carry `"len"` instead of `"text"`.
extension Operation: Codable {
    enum CodingKeys: String, CodingKey { case id, ts, type, pos, text, len, origin, parents }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func identifier(_ text: String) throws -> OperationID {
            guard let id = OperationID(text) else { throw CRDTError.invalidOperation(reason: "bad id \(text.debugDescription), expected agent:seq") }
            return id
        }
        id = try identifier(try container.decode(String.self, forKey: .id))
        ts = try container.decodeIfPresent(Int.self, forKey: .ts) ?? 0
        guard let kind = Kind(rawValue: try container.decode(String.self, forKey: .type)) else {
            throw CRDTError.invalidOperation(reason: "\(id): type must be insert or delete")
        }
        type = kind
        pos = try container.decode(Int.self, forKey: .pos)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        len = try container.decodeIfPresent(Int.self, forKey: .len)
        parents = try (container.decodeIfPresent([String].self, forKey: .parents) ?? []).map(identifier)
        if let origin = try container.decodeIfPresent(String.self, forKey: .origin), origin != id.agent {
            throw CRDTError.invalidOperation(reason: "\(id): origin \(origin.debugDescription) is not the id's agent")
        }
        if (type == .insert) != (text != nil) || (type == .delete) != (len != nil) {
            throw CRDTError.invalidOperation(reason: "\(id): an insert carries text, a delete carries len")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.description, forKey: .id)
        try container.encode(ts, forKey: .ts)
        try container.encode(type.rawValue, forKey: .type)
        try container.encode(pos, forKey: .pos)
        try container.encodeIfPresent(text, forKey: .text)
        try container.encodeIfPresent(len, forKey: .len)
        try container.encode(origin, forKey: .origin)
        try container.encode(parents.map(\.description), forKey: .parents)
    }
}

extension TextDocument {
    /// Operations as a JSON array (the API form).
    public static func json(of operations: [Operation]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(operations))
    }

    /// Parses a JSON array of operations.
    public static func operations(fromJSON bytes: [UInt8]) throws -> [Operation] {
        do {
            return try JSONDecoder().decode([Operation].self, from: Data(bytes))
        } catch let error as CRDTError {
            throw error
        } catch {
            throw CRDTError.invalidOperation(reason: "JSON does not decode as operations: \(error)")
        }
    }
}
