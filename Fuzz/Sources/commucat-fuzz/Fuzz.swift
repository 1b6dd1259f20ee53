// One libFuzzer binary for every wire parser; the parser is chosen by COMMUCAT_FUZZ_TARGET so that
// the (slow, instrumented) build happens once. Each entry point lives beside its parser
// (Sources/*/Fuzz/FuzzEntryPoints.swift) and must never crash on any input.
import CCP
import Codecs
import ConnectCore
import Glibc
import SFUWire
import Simulcast

let targets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "demux": fuzzDemux,
    "stun": fuzzSTUN,
    "rtp": fuzzRTP,
    "rtcp": fuzzRTCP,
    "sdp": fuzzSDP,
    "sdp-fragment": fuzzSDPFragment,
    "rfc4571": fuzzRFC4571,
    "ccp-frame": fuzzCCPFrameDecoder,
    "noise-responder": fuzzNoiseResponder,
    "connect-hello": fuzzConnectHello,
    "device-certificate": fuzzDeviceCertificate,
    "opus": fuzzOpus,
    "vp8": fuzzVP8,
    "vp9": fuzzVP9,
    "h264": fuzzH264,
    "av1": fuzzAV1,
    "dependency-descriptor": fuzzDependencyDescriptor,
    "red": fuzzRED,
    "vp8-munger": fuzzVP8PictureMunger,
]

let selected: @Sendable (UnsafeRawBufferPointer) -> Void = {
    guard let name = getenv("COMMUCAT_FUZZ_TARGET").map({ String(cString: $0) }), let target = targets[name] else {
        let names = targets.keys.sorted().joined(separator: ", ")
        let message = Array("commucat-fuzz: set COMMUCAT_FUZZ_TARGET to one of: \(names)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM links executables with `main` aliased to `<module>_main`; this is that function, and it
// hands control to libFuzzer's driver exactly as libFuzzer's own `main` would.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("commucat_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
