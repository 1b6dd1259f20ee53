import NIOCore

extension EventLoop {
    /// Runs `body` on this loop (inline when already there) and returns its result: how the
    /// async control-plane API reaches loop-confined media objects.
    func runOnLoop<T: Sendable>(_ body: @escaping @Sendable () throws(SFUError) -> T) async throws(SFUError) -> T {
        if inEventLoop { return try body() }
        let outcome: Result<T, SFUError>
        do {
            outcome = try await submit { Result { () throws(SFUError) -> T in try body() } }.get()
        } catch {
            throw SFUError(.closed, detail: "event loop is shut down")
        }
        return try outcome.get()
    }

    /// The same for bodies that cannot fail.
    func runOnLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        if inEventLoop { return body() }
        return try? await submit(body).get()
    }
}

/// Monotonic nanoseconds (the clock the forwarding state machines take).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    NIODeadline.now().uptimeNanoseconds
}
