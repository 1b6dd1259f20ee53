// The one error type of the codec owners. C return codes stay inside the owners: callers see a
// stable `code` (postgres-nio `PSQLError` shape), the library that failed and its own message.

/// A failure of an encoder or decoder owner.
public struct CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier of the kind of failure; compare codes, never messages.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A parameter is out of the range the owner or the library accepts (bitrate, threads, …).
        public static let invalidParameter = Code("invalid_parameter")
        /// A frame or PCM buffer does not match the size the codec was opened with.
        public static let invalidFrameSize = Code("invalid_frame_size")
        /// The library refused to create or configure its context.
        public static let initFailed = Code("init_failed")
        /// The encoder failed on a frame.
        public static let encodeFailed = Code("encode_failed")
        /// The decoder rejected its input (corrupt or unsupported bitstream).
        public static let decodeFailed = Code("decode_failed")
        /// The library could not allocate memory.
        public static let outOfMemory = Code("out_of_memory")
    }

    /// The C library behind an owner.
    public enum Library: String, Sendable, Hashable {
        case opus, vpx, aom, dav1d, openh264, x264, commucat
    }

    public var code: Code
    public var library: Library
    /// The library's own words (or ours, for checks made before calling it).
    public var message: String

    public init(_ code: Code, library: Library, _ message: String) {
        self.code = code
        self.library = library
        self.message = message
    }

    public var description: String { "\(library.rawValue): \(code): \(message)" }
}
