import CCurlShim
import CLibcurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state of one exchange, reached from libcurl's callbacks through their context pointer.
final class Transfer {
    let method: String
    let url: String
    private let body: HTTPRequestBody
    private let sink: HTTPResponseSink
    private var fileDescriptor: Int32 = -1
    private var sendPosition: UInt64 = 0

    private(set) var responseHeaders: [(name: String, value: String)] = []
    private var status = 0
    private(set) var collected: [UInt8] = []
    /// Set when a callback failed; the transfer was aborted and this is the error to report.
    private(set) var failure: HTTPError?
    var errorDetail: String { "" }

    static let errorBodyLimit = 1 << 20

    init(request: HTTPRequest, sink: HTTPResponseSink) throws(HTTPError) {
        method = request.method.uppercased()
        url = request.url
        body = request.body
        self.sink = sink
        var bodyFile: String?
        if case .file(let path, _, _) = request.body { bodyFile = path }
        if case .framedFile(_, let path, _, _) = request.body { bodyFile = path }
        if let bodyFile {
            fileDescriptor = open(bodyFile, O_RDONLY | O_CLOEXEC)
            if fileDescriptor < 0 {
                throw .requestBodyUnreadable(path: bodyFile, errno: errno)
            }
        }
    }

    func close() {
        if fileDescriptor >= 0 {
            _ = Glibc.close(fileDescriptor)
            fileDescriptor = -1
        }
    }

    // MARK: response

    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        var text = String(decoding: line, as: UTF8.self)
        while text.hasSuffix("\r\n") || text.hasSuffix("\n") { text.removeLast() }
        if text.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue or a redirect) starts a new header block.
            responseHeaders.removeAll()
            let parts = text.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = String(text[..<colon])
        let value = text[text.index(after: colon)...].trimmingWhitespace()
        responseHeaders.append((name, value))
    }

    /// Returns false to abort the transfer.
    func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        let successful = (200..<300).contains(status)
        switch sink {
        case .stream(let consume) where successful:
            do {
                try consume(chunk)
            } catch {
                failure = .consumerFailed(underlying: error, method: method, url: url)
                return false
            }
        case .collect(let limit) where successful:
            guard collected.count + chunk.count <= limit else {
                failure = .responseTooLarge(limit: limit, method: method, url: url)
                return false
            }
            collected.append(contentsOf: chunk)
        default:
            // Error bodies are small XML or JSON documents: keep the start, drop the rest.
            let room = max(0, Transfer.errorBodyLimit - collected.count)
            collected.append(contentsOf: chunk.prefix(room))
        }
        return true
    }

    // MARK: request body

    /// Fills `buffer`; returns bytes written, 0 at the end, or nil on a read error.
    func sendBody(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let remaining = body.length - sendPosition
        let wanted = Int(min(UInt64(buffer.count), remaining))
        if wanted == 0 { return 0 }
        switch body {
        case .empty:
            return 0
        case .bytes(let bytes):
            return sendBytes(bytes, from: Int(sendPosition), into: buffer, count: wanted)
        case .file(let path, let offset, _):
            return sendFileBytes(path: path, at: offset + sendPosition, into: buffer, count: wanted)
        case .framedFile(let prefix, let path, let length, let suffix):
            let prefixCount = UInt64(prefix.count)
            if sendPosition < prefixCount {
                return sendBytes(prefix, from: Int(sendPosition), into: buffer, count: wanted)
            }
            if sendPosition < prefixCount + length {
                let count = Int(min(UInt64(wanted), prefixCount + length - sendPosition))
                return sendFileBytes(path: path, at: sendPosition - prefixCount, into: buffer, count: count)
            }
            return sendBytes(suffix, from: Int(sendPosition - prefixCount - length), into: buffer, count: wanted)
        }
    }

    private func sendBytes(_ bytes: [UInt8], from start: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int {
        let count = min(count, bytes.count - start)
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + count)]))
        }
        sendPosition += UInt64(count)
        return count
    }

    private func sendFileBytes(path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int? {
        let read = pread(fileDescriptor, buffer.baseAddress, count, off_t(offset))
        if read <= 0 {
            failure = .requestBodyUnreadable(path: path, errno: read < 0 ? errno : EIO)
            return nil
        }
        sendPosition += UInt64(read)
        return read
    }

    /// libcurl asks to rewind before resending a body on a new connection.
    func seek(to offset: UInt64) -> Bool {
        guard offset <= body.length else { return false }
        sendPosition = offset
        return true
    }
}

// The C callbacks: they capture nothing and find their Transfer through the context pointer.

let curlHeaderCallback: anvcs_curl_data_callback = { buffer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

let curlWriteCallback: anvcs_curl_data_callback = { buffer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    // Returning a different count makes libcurl abort with CURLE_WRITE_ERROR.
    return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
}

let curlReadCallback: anvcs_curl_data_callback = { buffer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let target = UnsafeMutableRawBufferPointer(start: buffer, count: size * count)
    return transfer.sendBody(into: target) ?? Int(CURL_READFUNC_ABORT)
}

let curlSeekCallback: anvcs_curl_seek_callback = { context, offset, origin in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    guard origin == SEEK_SET, offset >= 0 else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    return transfer.seek(to: UInt64(offset)) ? Int32(CURL_SEEKFUNC_OK) : Int32(CURL_SEEKFUNC_FAIL)
}
