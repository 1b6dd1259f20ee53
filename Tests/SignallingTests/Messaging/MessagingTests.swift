import CCP
import Foundation
import NIOCore
import Testing

@testable import Signalling

/// Messaging between paired devices over real `/connect` sessions (SPEC §4.4), on SQLite and, when
/// `make test` started them, on PostgreSQL with Redis presence.
@Suite(.serialized) struct MessagingTests {
    @Test(arguments: MessagingBackends.all)
    func twoUsersWithTwoDevicesEachExchangeMessagesAndPresenceReachesOnlyFriends(backend: String) async throws {
        try await withServer(environment: MessagingBackends.environment(backend)) { server, endpoints in
            let alice = uniqueHandle("alice"), bob = uniqueHandle("bob"), carol = uniqueHandle("carol")
            let a1 = try await TestDevice.connect(endpoints, handle: alice)
            let a2 = try await TestDevice.connect(endpoints, handle: alice)
            let b1 = try await TestDevice.connect(endpoints, handle: bob)
            let b2 = try await TestDevice.connect(endpoints, handle: bob)
            let c1 = try await TestDevice.connect(endpoints, handle: carol)

            // Not friends yet: a Join naming bob's device is refused.
            let (refusedType, refused) = try await a1.request(.join, channel: 7, json: "{\"members\":[\"\(b1.deviceID)\"]}")
            #expect(refusedType == .error && refused["error"] as? String == "not_friend", "\(refused)")

            // The friend request reaches both of bob's devices as a GroupEvent notice.
            let created = try await fetch(endpoints.http + "/api/friends/requests/\(bob)", method: .POST, bearer: a1.session, json: ["message": "hi bob"])
            #expect(created.status == 201, "\(created.body)")
            let requestID = try #require((created.json["request"] as? [String: Any])?["id"] as? String)
            for device in [b1, b2] {
                let notice = try await device.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "friend_request" }
                #expect(notice.channelID == 0 && notice.sequence > 0)
            }
            let accepted = try await fetch(endpoints.http + "/api/friends/requests/\(requestID)/accept", method: .POST, bearer: b1.session)
            #expect(accepted.status == 200, "\(accepted.body)")
            _ = try await a2.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "friend_accepted" }
            let again = try await fetch(endpoints.http + "/api/friends/requests/\(requestID)/accept", method: .POST, bearer: b1.session)
            #expect(again.status == 409 && again.json["code"] as? String == "not_pending")

            // Alice routes channel 7 to her other device and both of bob's.
            let (joinType, join) = try await a1.request(.join, channel: 7, json: "{\"members\":[\"\(a2.deviceID)\",\"\(b1.deviceID)\",\"\(b2.deviceID)\"]}")
            #expect(joinType == .ack && join["channel"] as? Int == 7, "\(join)")
            for device in [a2, b1, b2] {
                let notice = try await device.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "channel" }
                #expect(notice.channelID == 7 && TestDevice.json(notice)["from_device"] as? String == a1.deviceID)
            }

            let (msgType, msgAck) = try await a1.request(.msg, channel: 7, bytes: Array("hello from a1".utf8))
            #expect(msgType == .ack && msgAck["recipients"] as? Int == 3 && (msgAck["envelope_id"] as? String)?.count == 32, "\(msgAck)")
            for device in [a2, b1, b2] {
                let message = try await device.expect(.msg) { $0.channelID == 7 }
                #expect(String(buffer: message.payload) == "hello from a1")
                #expect(message.sequence > 0)
            }
            // Bob answers on the same channel id without joining; the route names it for him too.
            let (replyType, _) = try await b2.request(.msg, channel: 7, bytes: Array("hello from b2".utf8))
            #expect(replyType == .ack)
            for device in [a1, a2, b1] {
                let message = try await device.expect(.msg) { String(buffer: $0.payload) == "hello from b2" }
                #expect(message.channelID == 7)
            }
            // Typing carries who typed.
            b1.client.send(.typing, channel: 7, json: "{\"typing\":true}")
            let typing = try await a1.expect(.typing)
            #expect(TestDevice.json(typing)["from_device"] as? String == b1.deviceID && TestDevice.json(typing)["typing"] as? Bool == true)

            // Carol is nobody's friend: no route, no Join.
            let (carolType, carolError) = try await c1.request(.msg, channel: 7, bytes: Array("let me in".utf8))
            #expect(carolType == .error && carolError["error"] as? String == "unknown_channel", "\(carolError)")
            let (carolJoinType, carolJoin) = try await c1.request(.join, channel: 3, json: "{\"members\":[\"\(a1.deviceID)\"]}")
            #expect(carolJoinType == .error && carolJoin["error"] as? String == "not_friend", "\(carolJoin)")
            // A member using the id for another route refuses a second route on it.
            let (inUseType, inUse) = try await a2.request(.join, channel: 7, json: "{\"members\":[\"\(b1.deviceID)\"]}")
            #expect(inUseType == .error && inUse["error"] as? String == "channel_in_use", "\(inUse)")

            // Presence: b1 goes away; alice's devices hear it, bob's other device and carol do not.
            b1.client.send(.presence, channel: 0, json: "{\"state\":\"away\"}")
            for device in [a1, a2] {
                _ = try await device.expect(.presence) {
                    let object = TestDevice.json($0)
                    return object["device_id"] as? String == b1.deviceID && object["state"] as? String == "away" && object["user_id"] as? String == b1.userID
                }
            }
            // A keepalive round trip on carol and b2 after alice heard it: no presence of b1 reached them.
            for device in [c1, b2] {
                device.client.send(.keepalive, channel: 0, json: "{\"nonce\":\"n\"}")
                _ = try await device.expect(.keepalive)
                #expect(!device.pending(.presence).contains { TestDevice.json($0)["device_id"] as? String == b1.deviceID && TestDevice.json($0)["state"] as? String == "away" })
            }

            // GET /api/friends lists bob's devices with their presence.
            let friends = try await fetch(endpoints.http + "/api/friends", bearer: a1.session)
            #expect(friends.status == 200)
            let listed = try #require((friends.json["friends"] as? [[String: Any]])?.first)
            #expect(listed["handle"] as? String == bob)
            let states = Dictionary(uniqueKeysWithValues: ((listed["devices"] as? [[String: Any]]) ?? []).map { ($0["device_id"] as? String ?? "", $0["status"] as? String ?? "") })
            #expect(states == [b1.deviceID: "away", b2.deviceID: "online"], "\(states)")

            // b2 disconnects: alice hears offline.
            await b2.close()
            _ = try await a1.expect(.presence) { TestDevice.json($0)["device_id"] as? String == b2.deviceID && TestDevice.json($0)["state"] as? String == "offline" }

            // Delivery records name envelopes and devices, never payloads.
            let records = try await ledgerRecords(server, endpoints).filter { $0["scope"] as? String == "delivery" }
            #expect(records.contains { ($0["fields"] as? [String: Any])?["envelope_id"] as? String == msgAck["envelope_id"] as? String })
            let ledgerText = (try? String(contentsOfFile: endpoints.ledgerPath, encoding: .utf8)) ?? ""
            #expect(!ledgerText.contains("hello from"))
            for device in [a1, a2, b1, c1] { await device.close() }
        }
    }

    @Test func groupsPersistRolesAndAKickedMemberStopsReceiving() async throws {
        try await withServer(environment: MessagingBackends.environment("sqlite")) { _, endpoints in
            let alice = uniqueHandle("alice"), bob = uniqueHandle("bob"), carol = uniqueHandle("carol")
            let a1 = try await TestDevice.connect(endpoints, handle: alice)
            let b1 = try await TestDevice.connect(endpoints, handle: bob)
            let c1 = try await TestDevice.connect(endpoints, handle: carol)
            try await befriend(endpoints, a1, b1, bHandle: bob)
            try await befriend(endpoints, a1, c1, bHandle: carol)

            // Bob is not carol's friend, so he cannot put her in a group.
            let (bobCreateType, bobCreate) = try await b1.request(.groupCreate, channel: 0, json: "{\"members\":[\"\(carol)\"]}")
            #expect(bobCreateType == .error && bobCreate["error"] as? String == "not_friend", "\(bobCreate)")

            let (createType, create) = try await a1.request(.groupCreate, channel: 0, json: "{\"name\":\"team\",\"members\":[\"\(bob)\",\"\(carol)\"]}")
            #expect(createType == .ack, "\(create)")
            let groupID = try #require(create["group_id"] as? String)
            for device in [b1, c1] {
                _ = try await device.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "group_created" && TestDevice.json($0)["group_id"] as? String == groupID }
            }

            let (joinType, join) = try await a1.request(.join, channel: 9, json: "{\"group_id\":\"\(groupID)\"}")
            #expect(joinType == .ack, "\(join)")
            let (sentType, sent) = try await a1.request(.msg, channel: 9, bytes: Array("to the team".utf8))
            #expect(sentType == .ack && sent["recipients"] as? Int == 2, "\(sent)")
            for device in [b1, c1] { _ = try await device.expect(.msg) { String(buffer: $0.payload) == "to the team" } }

            // A member cannot kick; the owner can.
            let (bobKickType, bobKick) = try await b1.request(.groupEvent, channel: 0, json: "{\"action\":\"kick\",\"group_id\":\"\(groupID)\",\"user\":\"\(carol)\"}")
            #expect(bobKickType == .error && bobKick["error"] as? String == "forbidden", "\(bobKick)")
            let (kickType, kick) = try await a1.request(.groupEvent, channel: 0, json: "{\"action\":\"kick\",\"group_id\":\"\(groupID)\",\"user\":\"\(carol)\"}")
            #expect(kickType == .ack, "\(kick)")
            _ = try await c1.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "member_kicked" }

            // The next message reaches bob only; carol's answer on the channel is refused.
            let (afterType, after) = try await a1.request(.msg, channel: 9, bytes: Array("without carol".utf8))
            #expect(afterType == .ack && after["recipients"] as? Int == 1, "\(after)")
            _ = try await b1.expect(.msg) { String(buffer: $0.payload) == "without carol" }
            let (carolType, carolError) = try await c1.request(.msg, channel: 9, bytes: Array("still here?".utf8))
            #expect(carolType == .error && carolError["error"] as? String == "not_member", "\(carolError)")
            #expect(!c1.pending(.msg).contains { String(buffer: $0.payload) == "without carol" })

            // Roles: the owner promotes bob, who may then invite carol back.
            let (roleType, role) = try await a1.request(.groupEvent, channel: 0, json: "{\"action\":\"set_role\",\"group_id\":\"\(groupID)\",\"user\":\"\(bob)\",\"role\":\"admin\"}")
            #expect(roleType == .ack, "\(role)")
            let (bobInviteType, bobInvite) = try await b1.request(.groupInvite, channel: 0, json: "{\"group_id\":\"\(groupID)\",\"members\":[\"\(carol)\"]}")
            #expect(bobInviteType == .error && bobInvite["error"] as? String == "not_friend", "admin bob is not carol's friend: \(bobInvite)")
            let (inviteType, invite) = try await a1.request(.groupInvite, channel: 0, json: "{\"group_id\":\"\(groupID)\",\"members\":[\"\(carol)\"]}")
            #expect(inviteType == .ack && (invite["added"] as? [String])?.count == 1, "\(invite)")
            let (backType, back) = try await a1.request(.msg, channel: 9, bytes: Array("welcome back".utf8))
            #expect(backType == .ack && back["recipients"] as? Int == 2, "\(back)")
            _ = try await c1.expect(.msg) { String(buffer: $0.payload) == "welcome back" }

            // The owner leaves: bob (the admin) becomes owner.
            let (leaveType, _) = try await a1.request(.groupEvent, channel: 0, json: "{\"action\":\"leave\",\"group_id\":\"\(groupID)\"}")
            #expect(leaveType == .ack)
            let left = try await b1.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "member_left" }
            #expect(TestDevice.json(left)["new_owner"] as? String == b1.userID)
            for device in [a1, b1, c1] { await device.close() }
        }
    }

    @Test func badFramesGetStableCodesAndNoEffect() async throws {
        try await withServer(environment: MessagingBackends.environment("sqlite")) { _, endpoints in
            let a1 = try await TestDevice.connect(endpoints, handle: uniqueHandle("alice"))
            let cases: [(CCPFrameType, UInt32, String, String)] = [
                (.join, 0, "{\"members\":[\"x\"]}", "invalid"),
                (.join, 4, "[1,2]", "invalid"),
                (.join, 4, "{\"members\":[]}", "invalid"),
                (.join, 4, "{\"group_id\":\"nope\"}", "unknown_group"),
                (.leave, 4, "{}", "unknown_channel"),
                (.presence, 0, "{\"state\":\"asleep\"}", "invalid"),
                (.groupEvent, 0, "{\"action\":\"explode\",\"group_id\":\"g\"}", "unknown_group"),
                (.groupInvite, 0, "{\"group_id\":\"g\"}", "invalid"),
                (.callOffer, 0, "{}", "unsupported"),
                (.ack, 0, "{\"ack\":\"x\"}", "invalid"),
            ]
            for (type, channel, json, code) in cases {
                let (replyType, reply) = try await a1.request(type, channel: channel, json: json)
                #expect(replyType == .error && reply["error"] as? String == code, "\(type) \(json): \(reply)")
            }
            // The session survives all of it.
            a1.client.send(.keepalive, channel: 0, json: "{\"nonce\":\"alive\"}")
            _ = try await a1.expect(.keepalive)
            let metrics = try await fetch(endpoints.http + "/metrics")
            #expect(metrics.body.contains("commucat_messaging_rejections_total{code=\"unknown_group\"}"), "\(metrics.body.prefix(200))")
            await a1.close()
        }
    }

    @Test func friendsRESTRejectReplaceAndErrors() async throws {
        try await withServer(environment: MessagingBackends.environment("sqlite")) { _, endpoints in
            let alice = uniqueHandle("alice"), bob = uniqueHandle("bob"), carol = uniqueHandle("carol")
            let a1 = try await TestDevice.connect(endpoints, handle: alice)
            let b1 = try await TestDevice.connect(endpoints, handle: bob)
            let c1 = try await TestDevice.connect(endpoints, handle: carol)

            #expect(try await fetch(endpoints.http + "/api/friends").status == 401)
            let unknown = try await fetch(endpoints.http + "/api/friends/requests/nobody-\(UInt32.random(in: 0...UInt32.max))", method: .POST, bearer: a1.session)
            #expect(unknown.status == 404 && unknown.json["code"] as? String == "unknown_user")
            let selfRequest = try await fetch(endpoints.http + "/api/friends/requests/\(alice)", method: .POST, bearer: a1.session)
            #expect(selfRequest.status == 400)

            // Bob rejects; alice's device is told; they are not friends.
            let created = try await fetch(endpoints.http + "/api/friends/requests/\(bob)", method: .POST, bearer: a1.session)
            #expect(created.status == 201)
            let duplicate = try await fetch(endpoints.http + "/api/friends/requests/\(bob)", method: .POST, bearer: a1.session)
            #expect(duplicate.status == 409 && duplicate.json["code"] as? String == "request_pending", "\(duplicate.body)")
            let pending = try await fetch(endpoints.http + "/api/friends/requests", bearer: b1.session)
            #expect((pending.json["incoming"] as? [[String: Any]])?.count == 1, "\(pending.body)")
            let id = try #require((created.json["request"] as? [String: Any])?["id"] as? String)
            let notYours = try await fetch(endpoints.http + "/api/friends/requests/\(id)/accept", method: .POST, bearer: c1.session)
            #expect(notYours.status == 404 && notYours.json["code"] as? String == "unknown_request")
            let rejected = try await fetch(endpoints.http + "/api/friends/requests/\(id)/reject", method: .POST, bearer: b1.session)
            #expect(rejected.status == 200 && (rejected.json["request"] as? [String: Any])?["status"] as? String == "rejected")
            _ = try await a1.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "friend_rejected" }
            let none = try await fetch(endpoints.http + "/api/friends", bearer: a1.session)
            #expect((none.json["friends"] as? [Any])?.isEmpty == true)

            // PUT: alice wants carol (a request is sent) and not bob (nothing to remove).
            try await befriend(endpoints, a1, b1, bHandle: bob)
            let replaced = try await fetch(endpoints.http + "/api/friends", method: .PUT, bearer: a1.session, json: ["friends": [carol]])
            #expect(replaced.status == 200, "\(replaced.body)")
            #expect(replaced.json["removed"] as? [String] == [bob] && replaced.json["requested"] as? [String] == [carol], "\(replaced.body)")
            _ = try await c1.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "friend_request" }
            let (joinType, join) = try await a1.request(.join, channel: 2, json: "{\"members\":[\"\(b1.deviceID)\"]}")
            #expect(joinType == .error && join["error"] as? String == "not_friend", "bob was removed: \(join)")
            let badPut = try await fetch(endpoints.http + "/api/friends", method: .PUT, bearer: a1.session, json: ["friends": "carol"])
            #expect(badPut.status == 400)
            for device in [a1, b1, c1] { await device.close() }
        }
    }

    @Test func expiredInboxEntriesArePurged() async throws {
        var env = MessagingBackends.environment("sqlite")
        env["COMMUCAT_LIMITS_RELAY_TTL"] = "1s"
        try await withServer(environment: env) { server, endpoints in
            let alice = uniqueHandle("alice")
            let a1 = try await TestDevice.connect(endpoints, handle: alice)
            let offline = DeviceIdentity.generate()
            let a2 = try await TestDevice.connect(endpoints, handle: alice, identity: offline)
            await a2.close()
            let (joinType, _) = try await a1.request(.join, channel: 1, json: "{\"members\":[\"\(offline.deviceID)\"]}")
            #expect(joinType == .ack)
            let (msgType, _) = try await a1.request(.msg, channel: 1, bytes: Array("short-lived".utf8))
            #expect(msgType == .ack)
            let purged = await server.messaging.purgeExpired(now: Date().addingTimeInterval(2))
            #expect(purged == 2, "the channel notice and the message")
            let back = try await TestDevice.connect(endpoints, handle: alice, identity: offline, autoAck: false)
            back.client.send(.keepalive, channel: 0, json: "{}")
            _ = try await back.expect(.keepalive)
            try await Task.sleep(for: .milliseconds(500))
            #expect(back.pending(.msg).isEmpty)
            await back.close()
            await a1.close()
        }
    }
}
