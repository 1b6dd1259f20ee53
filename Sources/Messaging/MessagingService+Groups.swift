import CCP
import Foundation
import Storage

/// Groups over CCP-1 (SPEC §4.4 Groups): GroupCreate, GroupInvite, and GroupEvent with an `action`
/// (`leave`, `kick`, `set_role`, `rename`). Every change is persisted, acknowledged with
/// `Ack {ack, group_id}` and told to every member's devices as a durable GroupEvent notice.
extension MessagingService {
    func createGroup(_ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        let object = try Self.object(frame)
        let requested = (object["members"] as? [String]) ?? []
        guard requested.count <= configuration.maxMembers else { throw MessagingError(.invalid, "at most \(configuration.maxMembers) members") }
        let groupID = object["group_id"] as? String
        if let groupID, groupID.isEmpty || groupID.utf8.count > 128 { throw MessagingError(.invalid, "group_id must be 1 to 128 bytes") }
        let name = object["name"] as? String
        let roleNames = (object["roles"] as? [String: String]) ?? [:]
        var members: [String: GroupRole] = [:]
        for reference in requested {
            let user = try await resolveUser(reference)
            if user.id == session.userID { continue }
            try await requireFriends(session.userID, user.id, reference: reference)
            members[user.id] = try Self.role(roleNames[reference] ?? roleNames[user.id] ?? "member")
        }
        let group: GroupRecord
        do {
            group = try await storage.createGroup(id: groupID, name: name, ownerID: session.userID, members: members, now: Date())
        } catch where error.code == .conflict {
            throw MessagingError(.invalid, "group \(groupID ?? "") exists")
        } catch {
            throw MessagingError(.internal, "cannot create the group: \(error.code.rawValue)")
        }
        var roster: [JSONText] = [.object(["user_id": .string(session.userID), "role": .string(GroupRole.owner.rawValue)])]
        for (userID, role) in members.sorted(by: { $0.key < $1.key }) {
            roster.append(.object(["user_id": .string(userID), "role": .string(role.rawValue)]))
        }
        var event: [String: JSONText] = [
            "type": .string("group_created"), "group_id": .string(group.id), "members": .array(roster), "by_user": .string(session.userID),
        ]
        if let name { event["name"] = .string(name) }
        try await notify(userIDs: [session.userID] + Array(members.keys), event: event)
        session.deliver([Self.ack(frame, ["group_id": .string(group.id)])])
    }

    func invite(_ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        let object = try Self.object(frame)
        guard let groupID = object["group_id"] as? String, let requested = object["members"] as? [String], !requested.isEmpty else {
            throw MessagingError(.invalid, "GroupInvite needs {group_id, members:[user…]}")
        }
        guard requested.count <= configuration.maxMembers else { throw MessagingError(.invalid, "at most \(configuration.maxMembers) members") }
        let role = try Self.role((object["role"] as? String) ?? "member")
        let caller = try await member(groupID: groupID, userID: session.userID)
        guard caller.role != .member else { throw MessagingError(.forbidden, "only the owner or an admin can invite") }
        var added: [String] = []
        for reference in requested {
            let user = try await resolveUser(reference)
            try await requireFriends(session.userID, user.id, reference: reference)
            do {
                try await storage.addGroupMember(groupID: groupID, userID: user.id, role: role, now: Date())
                added.append(user.id)
            } catch where error.code == .conflict {
                continue
            } catch {
                throw MessagingError(.internal, "cannot add \(reference): \(error.code.rawValue)")
            }
        }
        let everyone = try await memberIDs(groupID)
        for userID in added {
            try await notify(
                userIDs: everyone,
                event: [
                    "type": .string("member_added"), "group_id": .string(groupID), "user_id": .string(userID), "role": .string(role.rawValue),
                    "by_user": .string(session.userID),
                ])
        }
        session.deliver([Self.ack(frame, ["group_id": .string(groupID), "added": .strings(added)])])
    }

    func groupAction(_ action: String, _ object: [String: Any], _ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        guard let groupID = object["group_id"] as? String else { throw MessagingError(.invalid, "GroupEvent \(action) needs group_id") }
        let caller = try await member(groupID: groupID, userID: session.userID)
        switch action {
        case "leave":
            let before = try await memberIDs(groupID)
            var event: [String: JSONText] = ["type": .string("member_left"), "group_id": .string(groupID), "user_id": .string(session.userID)]
            do {
                let rest = try await storage.groupMembers(groupID: groupID).filter { $0.userID != session.userID }
                if rest.isEmpty {
                    try await storage.deleteGroup(id: groupID)
                } else {
                    if caller.role == .owner {
                        // The longest-standing admin, else the longest-standing member, becomes owner.
                        let heir = rest.first { $0.role == .admin } ?? rest[0]
                        try await storage.setGroupMemberRole(groupID: groupID, userID: heir.userID, role: .owner)
                        event["new_owner"] = .string(heir.userID)
                    }
                    try await storage.removeGroupMember(groupID: groupID, userID: session.userID)
                }
            } catch {
                throw MessagingError(.internal, "cannot leave group \(groupID): \(error.code.rawValue)")
            }
            try await notify(userIDs: before, event: event)
        case "kick":
            let target = try await resolveUser(try Self.string(object, "user", action))
            let victim = try await member(groupID: groupID, userID: target.id, notMemberDetail: "user \(target.handle) is not a member")
            guard caller.role == .owner || (caller.role == .admin && victim.role == .member) else {
                throw MessagingError(.forbidden, "an owner can remove anyone but themselves; an admin only members")
            }
            guard victim.userID != session.userID else { throw MessagingError(.invalid, "use action leave to leave a group") }
            let before = try await memberIDs(groupID)
            do {
                try await storage.removeGroupMember(groupID: groupID, userID: target.id)
            } catch {
                throw MessagingError(.internal, "cannot remove \(target.handle): \(error.code.rawValue)")
            }
            try await notify(
                userIDs: before,
                event: ["type": .string("member_kicked"), "group_id": .string(groupID), "user_id": .string(target.id), "by_user": .string(session.userID)])
        case "set_role":
            let target = try await resolveUser(try Self.string(object, "user", action))
            let role = try Self.role(try Self.string(object, "role", action))
            guard caller.role == .owner else { throw MessagingError(.forbidden, "only the owner changes roles") }
            guard target.id != session.userID else { throw MessagingError(.invalid, "the owner's role cannot change; the owner leaves to hand over") }
            _ = try await member(groupID: groupID, userID: target.id, notMemberDetail: "user \(target.handle) is not a member")
            do {
                try await storage.setGroupMemberRole(groupID: groupID, userID: target.id, role: role)
            } catch {
                throw MessagingError(.internal, "cannot change the role: \(error.code.rawValue)")
            }
            try await notify(
                userIDs: try await memberIDs(groupID),
                event: [
                    "type": .string("role_changed"), "group_id": .string(groupID), "user_id": .string(target.id), "role": .string(role.rawValue),
                    "by_user": .string(session.userID),
                ])
        case "rename":
            guard caller.role != .member else { throw MessagingError(.forbidden, "only the owner or an admin renames") }
            let name = object["name"] as? String
            do {
                try await storage.renameGroup(id: groupID, name: name)
            } catch {
                throw MessagingError(.internal, "cannot rename: \(error.code.rawValue)")
            }
            var event: [String: JSONText] = ["type": .string("renamed"), "group_id": .string(groupID), "by_user": .string(session.userID)]
            event["name"] = name.map(JSONText.string) ?? .null
            try await notify(userIDs: try await memberIDs(groupID), event: event)
        default:
            throw MessagingError(.invalid, "unknown group action \(action) (leave, kick, set_role, rename)")
        }
        session.deliver([Self.ack(frame, ["group_id": .string(groupID)])])
    }

    // MARK: Helpers

    private func member(groupID: String, userID: String, notMemberDetail: String? = nil) async throws(MessagingError) -> GroupMember {
        do {
            guard try await storage.group(id: groupID) != nil else { throw MessagingError(.unknownGroup, "no group \(groupID)") }
            guard let member = try await storage.groupMember(groupID: groupID, userID: userID) else {
                throw MessagingError(.notMember, notMemberDetail ?? "you are not a member of group \(groupID)")
            }
            return member
        } catch let error as MessagingError {
            throw error
        } catch {
            throw MessagingError(.internal, "cannot read group \(groupID)")
        }
    }

    private func memberIDs(_ groupID: String) async throws(MessagingError) -> [String] {
        do {
            return try await storage.groupMembers(groupID: groupID).map(\.userID)
        } catch {
            throw MessagingError(.internal, "cannot list group \(groupID): \(error.code.rawValue)")
        }
    }

    /// A user by id, else by handle; `invalid` when neither exists.
    func resolveUser(_ reference: String) async throws(MessagingError) -> UserRecord {
        do {
            if let user = try await storage.user(id: reference) { return user }
            if let user = try await storage.user(handle: reference.lowercased()) { return user }
        } catch {
            throw MessagingError(.internal, "cannot look up user \(reference)")
        }
        throw MessagingError(.invalid, "unknown user \(reference)")
    }

    private func requireFriends(_ a: String, _ b: String, reference: String) async throws(MessagingError) {
        let friends: Bool
        do {
            friends = try await storage.areFriends(a, b)
        } catch {
            throw MessagingError(.internal, "cannot check friendship")
        }
        guard friends else { throw MessagingError(.notFriend, "\(reference) is not your friend") }
    }

    static func role(_ name: String) throws(MessagingError) -> GroupRole {
        guard let role = GroupRole(rawValue: name), role != .owner else { throw MessagingError(.invalid, "role must be admin or member") }
        return role
    }

    static func string(_ object: [String: Any], _ key: String, _ action: String) throws(MessagingError) -> String {
        guard let value = object[key] as? String else { throw MessagingError(.invalid, "GroupEvent \(action) needs \(key)") }
        return value
    }
}
