#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 64-bit NTP timestamp of sender reports (RFC 3550 §4): seconds since 1900-01-01 in the high
/// 32 bits, the fraction in the low 32.
public enum NTPTime {
    /// Seconds from 1900-01-01 to 1970-01-01 (RFC 5905 §6).
    static let unixEpochOffset: UInt64 = 2_208_988_800

    /// NTP time of a Unix time given in nanoseconds.
    public static func fromUnix(nanoseconds: UInt64) -> UInt64 {
        let seconds = nanoseconds / 1_000_000_000 + unixEpochOffset
        let fraction = (nanoseconds % 1_000_000_000) << 32 / 1_000_000_000
        return seconds << 32 | fraction
    }

    /// The wall clock now, as NTP.
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return fromUnix(nanoseconds: UInt64(max(spec.tv_sec, 0)) * 1_000_000_000 + UInt64(max(spec.tv_nsec, 0)))
    }
}
