import Crypto
import NIOCore
import SFUWire

/// The server side of ICE-lite (RFC 8445 §2.5) for one session: it answers connectivity checks,
/// follows the controlling peer's nomination and watches consent freshness (RFC 7675).
///
/// A struct state machine (STYLE §2): events go in (``receivedBindingRequest(from:message:now:)``,
/// ``tick(now:)``), an ``Action`` comes out, and the caller performs it. The clock is injected;
/// nothing here reads the time or touches a socket.
///
/// A lite agent is always the controlled agent against a full agent (RFC 8445 §6.1.1), never
/// sends checks and has only host candidates.
public struct ICEAgent: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// No valid check on the selected pair (nor a fresh nominated pair to fall back to) for
        /// this long ends the session (RFC 7675 §5.1: 30 s).
        public var consentTimeout: Duration
        /// No nomination this long after the agent was created fails the session.
        public var nominationTimeout: Duration
        /// A selected pair silent this long gives way to a fresher nominated pair (a peer that
        /// moved to another network keeps checking only its new pair). At most `consentTimeout`.
        public var staleSelectedPairAfter: Duration
        public var nominationPolicy: NominationPolicy
        /// Candidate pairs remembered per session; the least recently checked non-selected pair
        /// is forgotten to make room.
        public var maxCandidatePairs: Int
        /// Priority of our host candidate, `D` in the pair priority (RFC 8445 §6.1.2.3).
        public var localCandidatePriority: UInt32
        /// SOFTWARE attribute in responses (RFC 8489 §14.14); `nil` sends none.
        public var software: String?

        public init(
            consentTimeout: Duration = .seconds(30), nominationTimeout: Duration = .seconds(30),
            staleSelectedPairAfter: Duration = .seconds(8), nominationPolicy: NominationPolicy = .highestPriority,
            maxCandidatePairs: Int = 8,
            localCandidatePriority: UInt32 = SDPCandidate.priority(typePreference: 126, localPreference: 65535, component: 1),
            software: String? = nil
        ) {
            self.consentTimeout = consentTimeout
            self.nominationTimeout = nominationTimeout
            self.staleSelectedPairAfter = min(staleSelectedPairAfter, consentTimeout)
            self.nominationPolicy = nominationPolicy
            self.maxCandidatePairs = max(1, maxCandidatePairs)
            self.localCandidatePriority = localCandidatePriority
            self.software = software
        }
    }

    /// What a later USE-CANDIDATE on another pair does to the selected pair.
    public enum NominationPolicy: Hashable, Sendable {
        /// A nominated pair replaces the selected one only when its pair priority is higher
        /// (RFC 5245 §8.2.2 for aggressive nomination: use the highest-priority nominated pair),
        /// or when the selected pair went silent (``Configuration/staleSelectedPairAfter``).
        case highestPriority
        /// The latest nomination always wins (peers that renominate on network changes).
        case mostRecent
    }

    public enum State: Hashable, Sendable {
        /// Waiting for a nominated pair.
        case checking
        /// A pair is selected: media goes to this remote transport address.
        case connected(selected: STUNAddress)
        /// Consent lost (RFC 7675 §5.1). Final.
        case consentExpired
        /// The session failed. Final.
        case failed(ICEFailureReason)
    }

    /// What the caller must do after an event.
    public enum Action: Sendable {
        /// Nothing.
        case none
        /// The request was dropped unanswered; count `reason`.
        case drop(ICEDropReason)
        /// Send this STUN response to that transport address.
        case send(ByteBuffer, to: STUNAddress)
        /// Send this STUN response, and the check nominated its source: it is now the selected pair.
        case sendAndSelectPair(ByteBuffer, to: STUNAddress)
        /// The selected pair changed without a check (fallback after silence).
        case selectedPair(STUNAddress)
        /// Consent expired: close the session (RFC 7675 §5.1).
        case consentExpired
        /// The session failed: close it.
        case failed(ICEFailureReason)
    }

    public private(set) var localCredentials: ICECredentials
    /// `nil` until the peer's SDP arrives; until then any remote ufrag is accepted (checks can
    /// precede the answer, RFC 8445 §7.3) and integrity still uses our password.
    public private(set) var remoteCredentials: ICECredentials?
    public let configuration: Configuration
    public private(set) var state: State
    /// Pairs that passed a valid check, at most ``Configuration/maxCandidatePairs``.
    public private(set) var pairs: [ICECandidatePair]
    /// When the agent was created.
    public let createdAt: ICEInstant

    private var localKey: SymmetricKey
    /// `localUfrag:remoteUfrag`, or `localUfrag:` while the remote ufrag is unknown.
    private var expectedUsername: [UInt8]
    private let allocator: ByteBufferAllocator

    /// - Throws: ``ICEError`` when a ufrag or password breaks RFC 8839 §5.4.
    public init(
        local: ICECredentials, remote: ICECredentials?, configuration: Configuration = Configuration(),
        now: ICEInstant, allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(ICEError) {
        try local.validate()
        if let remote { try remote.validate() }
        self.localCredentials = local
        self.remoteCredentials = remote
        self.configuration = configuration
        self.state = .checking
        self.pairs = []
        self.createdAt = now
        self.localKey = STUNCredentials.shortTermKey(password: local.password)
        self.expectedUsername = ICEAgent.username(local: local, remote: remote)
        self.allocator = allocator
    }

    private static func username(local: ICECredentials, remote: ICECredentials?) -> [UInt8] {
        // RFC 8445 §7.2.2: the check's USERNAME is "<receiver ufrag>:<sender ufrag>".
        Array("\(local.ufrag):\(remote?.ufrag ?? "")".utf8)
    }

    /// ICE restart (RFC 8445 §9): answers checks for `local` from now on; the peer's new
    /// credentials are unknown until its SDP arrives (any remote ufrag is accepted meanwhile, as at
    /// the start). The selected pair and the pairs that passed checks stay, so media keeps flowing
    /// while the peer checks with the new credentials.
    public mutating func restart(local: ICECredentials) throws(ICEError) {
        try local.validate()
        localCredentials = local
        localKey = STUNCredentials.shortTermKey(password: local.password)
        remoteCredentials = nil
        expectedUsername = ICEAgent.username(local: local, remote: nil)
    }

    /// Sets the peer's credentials once its SDP arrives.
    public mutating func setRemoteCredentials(_ remote: ICECredentials) throws(ICEError) {
        try remote.validate()
        remoteCredentials = remote
        expectedUsername = ICEAgent.username(local: localCredentials, remote: remote)
    }

    /// The selected remote transport address, if any.
    public var selectedAddress: STUNAddress? {
        if case .connected(let selected) = state { return selected }
        return nil
    }

    /// `true` once consent expired or the session failed.
    public var isClosed: Bool {
        switch state {
        case .checking, .connected: return false
        case .consentExpired, .failed: return true
        }
    }

    /// A STUN message arrived from `source` for this session. `message` is any STUN message;
    /// only valid binding requests are answered.
    public mutating func receivedBindingRequest(from source: STUNAddress, message: STUNMessage, now: ICEInstant) -> Action {
        handle(from: source, message: message, now: now).action
    }

    /// The outcome of a check, with what the session table needs to keep its address map.
    struct CheckOutcome {
        var action: Action
        /// `source` passed a valid check (it now routes non-STUN packets to this session).
        var validatedSource: Bool = false
        /// A pair forgotten to make room; its address no longer routes here.
        var evicted: STUNAddress? = nil
    }

    mutating func handle(from source: STUNAddress, message: STUNMessage, now: ICEInstant) -> CheckOutcome {
        if isClosed { return CheckOutcome(action: .drop(.sessionClosed)) }
        if let reason = rejection(of: message) { return CheckOutcome(action: .drop(reason)) }
        // From here the request is authenticated: answers carry MESSAGE-INTEGRITY with our key.
        if let unknown = ICEAgent.unknownComprehensionRequired(message) {
            // RFC 8489 §6.3.1.1: 420 with UNKNOWN-ATTRIBUTES.
            return CheckOutcome(action: .send(errorResponse(message, .unknownAttribute, unknown: unknown), to: source))
        }
        if message.iceControlled != nil, message.iceControlling == nil {
            // RFC 8445 §7.3.1.1: both sides claim the controlled role. The RFC would compare
            // tie-breakers and possibly switch us to controlling, but a lite agent cannot control
            // (it sends no checks, §2.5) and must stay controlled against a full agent (§6.1.1).
            // So we always keep our role and answer 487; the full agent then switches (§7.2.5.1).
            return CheckOutcome(action: .send(errorResponse(message, .roleConflict), to: source))
        }
        guard let remotePriority = message.priority else {
            // RFC 8445 §7.2.2: checks MUST carry PRIORITY.
            return CheckOutcome(action: .send(errorResponse(message, .badRequest), to: source))
        }
        return accept(from: source, message: message, remotePriority: remotePriority, now: now)
    }

    /// RFC 8489 §7.3 and §9.1.3 checks, in cost order; `nil` means authenticated.
    private func rejection(of message: STUNMessage) -> ICEDropReason? {
        guard message.type == .bindingRequest else {
            return message.type == .bindingIndication ? .bindingIndication : .notBindingRequest
        }
        guard message.fingerprintAttributeOffset != nil else { return .missingFingerprint }
        guard message.hasValidFingerprint else { return .badFingerprint }
        guard let username = message.usernameBytes else { return .missingUsername }
        guard usernameMatches(username) else { return .wrongUsername }
        guard message.messageIntegrityAttributeOffset != nil else { return .missingIntegrity }
        // The RFC answers 400/401 here; an unauthenticated sender gets nothing from us.
        guard message.verifyMessageIntegrity(key: localKey) else { return .badIntegrity }
        return nil
    }

    private func usernameMatches(_ username: ByteBuffer) -> Bool {
        let remoteKnown = remoteCredentials != nil
        return username.withUnsafeReadableBytes { received in
            expectedUsername.withUnsafeBytes { expected in
                if remoteKnown { return received.elementsEqual(expected) }
                return received.count > expected.count
                    && UnsafeRawBufferPointer(rebasing: received[0..<expected.count]).elementsEqual(expected)
            }
        }
    }

    /// Comprehension-required attribute types before MESSAGE-INTEGRITY that we do not know.
    /// Allocates only when there are some.
    private static func unknownComprehensionRequired(_ message: STUNMessage) -> [UInt16]? {
        var unknown: [UInt16]?
        let end = message.messageIntegrityAttributeOffset ?? Int.max
        for attribute in message.attributes where attribute.offset < end && attribute.type.isComprehensionRequired {
            switch attribute.type {
            case .mappedAddress, .username, .messageIntegrity, .errorCode, .unknownAttributes, .realm, .nonce,
                 .messageIntegritySHA256, .xorMappedAddress, .priority, .useCandidate:
                continue
            default:
                unknown = (unknown ?? []) + [attribute.type.rawValue]
            }
        }
        return unknown
    }

    private func errorResponse(_ request: STUNMessage, _ error: STUNErrorCode, unknown: [UInt16] = []) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 96)
        STUNMessage.writeBindingError(
            to: &buffer, transactionID: request.transactionID, error: error, unknownAttributes: unknown,
            integrityKey: localKey
        )
        return buffer
    }

    private func successResponse(_ request: STUNMessage, to source: STUNAddress) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 96)
        // RFC 8445 §7.3.1.4 / RFC 8489 §6.3.1.1: XOR-MAPPED-ADDRESS of the request's source.
        STUNMessage.writeBindingSuccess(
            to: &buffer, transactionID: request.transactionID, mappedAddress: source, integrityKey: localKey,
            software: configuration.software
        )
        return buffer
    }

    private mutating func accept(
        from source: STUNAddress, message: STUNMessage, remotePriority: UInt32, now: ICEInstant
    ) -> CheckOutcome {
        let pairPriority = ICECandidatePair.priority(
            controlling: remotePriority, controlled: configuration.localCandidatePriority
        )
        var outcome = CheckOutcome(action: .none, validatedSource: true)
        let index: Int
        if let existing = pairs.firstIndex(where: { $0.remote == source }) {
            index = existing
            pairs[index].lastValidCheck = now
            pairs[index].remotePriority = remotePriority
            pairs[index].priority = pairPriority
        } else {
            if pairs.count >= configuration.maxCandidatePairs {
                outcome.evicted = evictOnePair()
            }
            pairs.append(ICECandidatePair(
                remote: source, remotePriority: remotePriority, priority: pairPriority, nominated: false,
                firstValidCheck: now, lastValidCheck: now
            ))
            index = pairs.count - 1
        }
        let response = successResponse(message, to: source)
        // RFC 8445 §7.3.1.5: USE-CANDIDATE on a check sets the pair's nominated flag; for a lite
        // agent the pair succeeds with this very check.
        if message.useCandidate {
            pairs[index].nominated = true
            if shouldSelect(pairs[index], now: now) {
                state = .connected(selected: source)
                outcome.action = .sendAndSelectPair(response, to: source)
                return outcome
            }
        }
        outcome.action = .send(response, to: source)
        return outcome
    }

    private func shouldSelect(_ candidate: ICECandidatePair, now: ICEInstant) -> Bool {
        guard case .connected(let selected) = state else { return true }
        if selected == candidate.remote { return false }
        guard let current = pairs.first(where: { $0.remote == selected }) else { return true }
        switch configuration.nominationPolicy {
        case .mostRecent:
            return true
        case .highestPriority:
            return candidate.priority > current.priority
                || now - current.lastValidCheck >= configuration.staleSelectedPairAfter
        }
    }

    /// Forgets the least recently checked pair that is not selected; returns its address.
    private mutating func evictOnePair() -> STUNAddress? {
        let selected = selectedAddress
        var victim: Int?
        for index in pairs.indices where pairs[index].remote != selected {
            if let current = victim, pairs[current].lastValidCheck <= pairs[index].lastValidCheck { continue }
            victim = index
        }
        guard let victim else { return nil }
        return pairs.remove(at: victim).remote
    }

    /// Time passed: checks the nomination and consent timers.
    public mutating func tick(now: ICEInstant) -> Action {
        switch state {
        case .consentExpired, .failed:
            return .none
        case .checking:
            guard now - createdAt >= configuration.nominationTimeout else { return .none }
            state = .failed(.nominationTimeout)
            return .failed(.nominationTimeout)
        case .connected(let selected):
            let last = pairs.first(where: { $0.remote == selected })?.lastValidCheck ?? createdAt
            let silence = now - last
            guard silence >= configuration.staleSelectedPairAfter else { return .none }
            // Fall back to the freshest other nominated pair, if it is fresh.
            var best: ICECandidatePair?
            for pair in pairs where pair.nominated && pair.remote != selected
                && now - pair.lastValidCheck < configuration.staleSelectedPairAfter
            {
                if let current = best, current.lastValidCheck >= pair.lastValidCheck { continue }
                best = pair
            }
            if let best {
                state = .connected(selected: best.remote)
                return .selectedPair(best.remote)
            }
            // RFC 7675 §5.1: consent is lost 30 s after the last check that proved it.
            guard silence >= configuration.consentTimeout else { return .none }
            state = .consentExpired
            return .consentExpired
        }
    }
}

/// Why an ICE session failed.
public enum ICEFailureReason: String, Hashable, Sendable, CustomStringConvertible {
    /// No check nominated a pair within ``ICEAgent/Configuration/nominationTimeout``.
    case nominationTimeout

    public var description: String { rawValue }
}
