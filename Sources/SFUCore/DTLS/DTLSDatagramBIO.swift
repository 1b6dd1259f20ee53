import COpenSSL
import NIOCore

/// Per-transport state that OpenSSL's callbacks reach through `BIO_get_data`: the one inbound
/// datagram being fed, the datagrams OpenSSL wrote, the SDP fingerprints, and timer settings.
///
/// Owned strongly by ``DTLSTransport``; the BIO holds an unretained pointer that is valid because
/// the transport frees the `SSL` (and with it the BIO) in `deinit` before this object goes away.
final class DTLSBIOContext {
    var inbound: ByteBuffer?
    var outbound: [ByteBuffer] = []
    var remoteFingerprints: [DTLSFingerprint]
    var peerFingerprintVerified = false
    var peerFingerprintMismatch = false
    let initialTimeoutMicroseconds: UInt32
    static let maximumTimeoutMicroseconds: UInt32 = 60_000_000

    init(remoteFingerprints: [DTLSFingerprint], initialTimeoutMicroseconds: UInt32) {
        self.remoteFingerprints = remoteFingerprints
        self.initialTimeoutMicroseconds = initialTimeoutMicroseconds
    }

    static func from(bio: OpaquePointer?) -> DTLSBIOContext? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<DTLSBIOContext>.fromOpaque(data).takeUnretainedValue()
    }

    static func from(ssl: OpaquePointer?) -> DTLSBIOContext? {
        guard let ssl else { return nil }
        return from(bio: SSL_get_rbio(ssl))
    }
}

/// The process-wide `BIO_METHOD` for DTLS over datagrams we carry ourselves.
///
/// OpenSSL's memory BIO concatenates writes, which merges DTLS flights into one blob; UDP needs one
/// datagram per `BIO_write` (RFC 6347 §4.1.1: records never span datagrams). This method emits each
/// write as its own `ByteBuffer` and serves exactly one inbound datagram per read.
struct DTLSDatagramBIOMethod: @unchecked Sendable {
    /// Immutable after creation and only read by OpenSSL; `nil` if OpenSSL could not create it.
    let method: OpaquePointer?

    static let shared = DTLSDatagramBIOMethod(method: makeMethod())

    private static func makeMethod() -> OpaquePointer? {
        let index = BIO_get_new_index()
        guard index > 0, let method = BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "commucat-dtls-datagram") else {
            ERR_clear_error()
            return nil
        }
        let configured = BIO_meth_set_write(method, { bio, data, length in
            guard let context = DTLSBIOContext.from(bio: bio), let data, length >= 0 else { return -1 }
            context.outbound.append(ByteBuffer(bytes: UnsafeRawBufferPointer(start: data, count: Int(length))))
            return length
        }) == 1
            && BIO_meth_set_read(method, { bio, destination, capacity in
                commucat_BIO_clear_retry_flags(bio)
                guard let context = DTLSBIOContext.from(bio: bio), let destination, capacity > 0 else { return -1 }
                guard let datagram = context.inbound else {
                    commucat_BIO_set_retry_read(bio)
                    return -1
                }
                context.inbound = nil
                // A datagram larger than OpenSSL's buffer is truncated, as recvfrom would.
                let count = min(datagram.readableBytes, Int(capacity))
                datagram.withUnsafeReadableBytes { bytes in
                    if let base = bytes.baseAddress {
                        UnsafeMutableRawPointer(destination).copyMemory(from: base, byteCount: count)
                    }
                }
                return Int32(count)
            }) == 1
            && BIO_meth_set_ctrl(method, { bio, command, _, _ in
                switch command {
                case BIO_CTRL_FLUSH:
                    return 1
                case BIO_CTRL_PENDING:
                    return DTLSBIOContext.from(bio: bio)?.inbound.map { $0.readableBytes } ?? 0
                case BIO_CTRL_WPENDING:
                    return 0
                case BIO_CTRL_DGRAM_QUERY_MTU, BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
                    return DTLSTransport.defaultMTU
                default:
                    // Includes BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: our datagrams carry no IP/UDP
                    // header, so the link MTU is the datagram payload size.
                    return 0
                }
            }) == 1
            && BIO_meth_set_create(method, { bio in
                BIO_set_init(bio, 1)
                return 1
            }) == 1
            && BIO_meth_set_destroy(method, { bio in
                BIO_set_data(bio, nil)
                BIO_set_init(bio, 0)
                return 1
            }) == 1
        guard configured else {
            BIO_meth_free(method)
            ERR_clear_error()
            return nil
        }
        return method
    }
}
