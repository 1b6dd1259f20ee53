/// Who a channel id reaches (SPEC §4.4 Channels), per device, on this node. Pure: the service checks
/// friendship and group membership before it asks for a binding.
///
/// A route is created by a `Join`: either an explicit set of devices (the sender's own devices and
/// mutual friends' devices) or a group, whose members are resolved when each frame is sent so that a
/// kicked member stops receiving at once. The channel id names the route for every member device, so
/// a member can answer on the same id without joining.
public struct ChannelRoutes: Sendable {
    public enum Target: Sendable, Hashable {
        /// Exactly these devices (the sender included).
        case devices(Set<String>)
        case group(String)
    }

    public struct Route: Sendable, Hashable {
        public var id: Int
        public var channel: UInt32
        public var target: Target
        /// Devices bound to the route (those that have not left).
        public var members: Set<String>
    }

    public enum JoinOutcome: Sendable, Hashable {
        /// A new route; `members` other than the sender should be told.
        case created(Route)
        /// The same target was already routed on this channel: nothing changes except late bindings.
        case existing(Route)
    }

    private var routes: [Int: Route] = [:]
    private var bindings: [String: [UInt32: Int]] = [:]
    private var nextID = 1

    public init() {}

    /// Binds `channel` to `target` for `sender` and every device in `memberDevices`.
    /// `channel_in_use` when the sender or a member already uses the id for another target.
    public mutating func join(sender: String, channel: UInt32, target: Target, memberDevices: Set<String>) throws(MessagingError) -> JoinOutcome {
        let everyone = memberDevices.union([sender])
        var reuse: Int?
        for device in everyone.sorted() {
            guard let bound = bindings[device]?[channel], let route = routes[bound] else { continue }
            guard route.target == target else {
                let who = device == sender ? "you already use" : "device \(device) already uses"
                throw MessagingError(.channelInUse, "\(who) channel \(channel) for another route")
            }
            reuse = reuse ?? bound
        }
        if let reuse, var route = routes[reuse] {
            for device in everyone where bindings[device]?[channel] == nil {
                bindings[device, default: [:]][channel] = reuse
                route.members.insert(device)
            }
            routes[reuse] = route
            return .existing(route)
        }
        let route = Route(id: nextID, channel: channel, target: target, members: everyone)
        nextID += 1
        routes[route.id] = route
        for device in everyone { bindings[device, default: [:]][channel] = route.id }
        return .created(route)
    }

    /// The route `device` reaches on `channel`.
    public func route(device: String, channel: UInt32) -> Route? {
        guard let id = bindings[device]?[channel] else { return nil }
        return routes[id]
    }

    /// Binds `device` to route `id` on its channel when the device has nothing there (a group member
    /// added after the Join); returns whether it is now bound to that route.
    @discardableResult
    public mutating func bindIfFree(device: String, routeID id: Int) -> Bool {
        guard var route = routes[id] else { return false }
        if let bound = bindings[device]?[route.channel] { return bound == id }
        bindings[device, default: [:]][route.channel] = id
        route.members.insert(device)
        routes[id] = route
        return true
    }

    /// Removes `device` from the route on `channel`; returns whether it had one. A route nobody is
    /// bound to is forgotten.
    @discardableResult
    public mutating func leave(device: String, channel: UInt32) -> Bool {
        guard let id = bindings[device]?.removeValue(forKey: channel) else { return false }
        if bindings[device]?.isEmpty == true { bindings[device] = nil }
        guard var route = routes[id] else { return true }
        route.members.remove(device)
        routes[id] = route.members.isEmpty ? nil : route
        return true
    }

    /// Number of live routes (for metrics and tests).
    public var count: Int { routes.count }
}
