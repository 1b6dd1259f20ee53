import Messaging
import Testing

/// The pure route table behind Join/Leave (SPEC §4.4 Channels).
@Suite struct ChannelRoutesTests {
    @Test func aJoinNamesTheRouteForEveryMemberAndIsIdempotent() throws {
        var routes = ChannelRoutes()
        let target = ChannelRoutes.Target.devices(["a1", "b1", "b2"])
        guard case .created(let route) = try routes.join(sender: "a1", channel: 7, target: target, memberDevices: ["b1", "b2"]) else {
            Issue.record("the first Join creates the route")
            return
        }
        #expect(route.members == ["a1", "b1", "b2"])
        for device in ["a1", "b1", "b2"] { #expect(routes.route(device: device, channel: 7)?.id == route.id) }
        #expect(routes.route(device: "c1", channel: 7) == nil)
        // The same target again (from a member): nothing new.
        guard case .existing(let again) = try routes.join(sender: "b1", channel: 7, target: target, memberDevices: ["a1", "b2"]) else {
            Issue.record("a repeated Join reuses the route")
            return
        }
        #expect(again.id == route.id && routes.count == 1)
    }

    @Test func anotherTargetOnABoundChannelIsChannelInUse() throws {
        var routes = ChannelRoutes()
        _ = try routes.join(sender: "a1", channel: 7, target: .devices(["a1", "b1"]), memberDevices: ["b1"])
        #expect(throws: MessagingError(.channelInUse, "device b1 already uses channel 7 for another route")) {
            try routes.join(sender: "c1", channel: 7, target: .devices(["c1", "b1"]), memberDevices: ["b1"])
        }
        #expect(throws: MessagingError(.channelInUse, "you already use channel 7 for another route")) {
            try routes.join(sender: "a1", channel: 7, target: .group("g"), memberDevices: [])
        }
        // Other channel ids are free.
        _ = try routes.join(sender: "c1", channel: 8, target: .devices(["c1", "b1"]), memberDevices: ["b1"])
        #expect(routes.count == 2)
    }

    @Test func leaveUnbindsAndForgetsEmptyRoutes() throws {
        var routes = ChannelRoutes()
        _ = try routes.join(sender: "a1", channel: 3, target: .devices(["a1", "b1"]), memberDevices: ["b1"])
        let left = routes.leave(device: "a1", channel: 3)
        let again = routes.leave(device: "a1", channel: 3)
        #expect(left && !again)
        #expect(routes.route(device: "b1", channel: 3)?.members == ["b1"])
        let last = routes.leave(device: "b1", channel: 3)
        #expect(last && routes.count == 0)
    }

    @Test func lateGroupMembersAreBoundOnlyWhenTheChannelIsFree() throws {
        var routes = ChannelRoutes()
        guard case .created(let group) = try routes.join(sender: "a1", channel: 9, target: .group("g"), memberDevices: ["a1", "b1"]) else {
            Issue.record("created")
            return
        }
        let bound = routes.bindIfFree(device: "c1", routeID: group.id)
        #expect(bound)
        #expect(routes.route(device: "c1", channel: 9)?.id == group.id)
        _ = try routes.join(sender: "d1", channel: 9, target: .devices(["d1", "e1"]), memberDevices: ["e1"])
        let taken = routes.bindIfFree(device: "d1", routeID: group.id)
        #expect(!taken, "d1 uses 9 for another route")
        #expect(routes.route(device: "d1", channel: 9)?.id != group.id)
    }
}
