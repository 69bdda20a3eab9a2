/// Everything that can go wrong in the CRDT engine, with the input that caused it.
public enum CRDTError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A local or remote edit refers to a position the document (at that version) does not have.
    case positionPastEnd(position: Int, length: Int, operation: String)
    /// Two operations share an id but differ in content: one of the replicas reused an agent name.
    case conflictingDuplicate(id: OperationID)
    /// Too many operations wait for parents that never arrived.
    case tooManyPendingOperations(limit: Int)
    /// A saved document or operation could not be decoded.
    case malformedEncoding(reason: String, offset: Int)
    /// An operation is not well formed (empty text, bad id, negative length).
    case invalidOperation(reason: String)
    /// A version names operations this document has never seen.
    case unknownVersion(OperationID)

    public var description: String {
        switch self {
        case let .positionPastEnd(position, length, operation):
            "\(operation) at position \(position) is past the end of the document (length \(length))"
        case let .conflictingDuplicate(id):
            "operation \(id) was received twice with different content; agent names must be unique per replica"
        case let .tooManyPendingOperations(limit):
            "more than \(limit) operations are waiting for parents that never arrived"
        case let .malformedEncoding(reason, offset):
            "the encoded document is malformed at byte \(offset): \(reason)"
        case let .invalidOperation(reason):
            "invalid operation: \(reason)"
        case let .unknownVersion(id):
            "version names operation \(id), which this document has not seen"
        }
    }
}
