#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes every byte of `bytes` to `fd` (retrying short writes and EINTR); a failure is a
/// `StorageError.fileSystem` naming `path`. The one write loop of this module.
func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < bytes.count {
        let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if count < 0 {
            if errno == EINTR { continue }
            throw StorageError.fileSystem(operation: "write", path: path, errno: errno)
        }
        offset += count
    }
}
