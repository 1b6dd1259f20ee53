import Foundation
import SQLKit

extension SQLStorage {
    func createGroup(id: String?, name: String?, ownerID: String, members: [String: GroupRole], now: Date) async throws(StorageError) -> GroupRecord {
        let groupID = id ?? UUID().uuidString.lowercased()
        guard !groupID.isEmpty else { throw .invalid("group id must not be empty") }
        let group = GroupRecord(id: groupID, name: name, createdBy: ownerID, createdAt: Date(storageMillis: now.storageMillis))
        var all = members.filter { $0.key != ownerID }
        all[ownerID] = .owner
        let ordered = all.sorted { $0.key < $1.key }
        return try await transaction("create group") { db in
            if try await Self.fetchGroup(id: groupID, on: db) != nil { throw StorageError.conflict("group \(groupID) exists") }
            for (userID, _) in ordered where try await db.raw("SELECT id FROM users WHERE id = \(bind: userID)").first() == nil {
                throw StorageError.notFound("user \(userID)")
            }
            try await db.raw("""
                INSERT INTO "groups" (id, name, created_by, created_at)
                VALUES (\(bind: groupID), \(bind: name), \(bind: ownerID), \(bind: now.storageMillis))
                """).run()
            for (userID, role) in ordered {
                try await db.raw("""
                    INSERT INTO group_members (group_id, user_id, role, joined_at)
                    VALUES (\(bind: groupID), \(bind: userID), \(bind: role.rawValue), \(bind: now.storageMillis))
                    """).run()
            }
            return group
        }
    }

    func group(id: String) async throws(StorageError) -> GroupRecord? {
        try await run("get group") { db in try await Self.fetchGroup(id: id, on: db) }
    }

    static func fetchGroup(id: String, on db: any SQLDatabase) async throws -> GroupRecord? {
        try await db.raw(#"SELECT id, name, created_by, created_at FROM "groups" WHERE id = \#(bind: id)"#).first().map(groupRecord)
    }

    func renameGroup(id: String, name: String?) async throws(StorageError) {
        try await transaction("rename group") { db in
            guard try await Self.fetchGroup(id: id, on: db) != nil else { throw StorageError.notFound("group \(id)") }
            try await db.raw(#"UPDATE "groups" SET name = \#(bind: name) WHERE id = \#(bind: id)"#).run()
        }
    }

    func deleteGroup(id: String) async throws(StorageError) {
        let deleted = try await run("delete group") { db in
            try await db.raw(#"DELETE FROM "groups" WHERE id = \#(bind: id) RETURNING id"#).all().count
        }
        guard deleted > 0 else { throw .notFound("group \(id)") }
    }

    func groups(userID: String) async throws(StorageError) -> [GroupRecord] {
        try await run("list groups") { db in
            try await db.raw(#"""
                SELECT g.id, g.name, g.created_by, g.created_at FROM "groups" g
                JOIN group_members m ON m.group_id = g.id
                WHERE m.user_id = \#(bind: userID) ORDER BY g.created_at, g.id
                """#).all().map(Self.groupRecord)
        }
    }

    func groupMembers(groupID: String) async throws(StorageError) -> [GroupMember] {
        try await run("list group members") { db in
            try await db.raw("""
                SELECT group_id, user_id, role, joined_at FROM group_members
                WHERE group_id = \(bind: groupID) ORDER BY joined_at, user_id
                """).all().map(Self.memberRecord)
        }
    }

    func groupMember(groupID: String, userID: String) async throws(StorageError) -> GroupMember? {
        try await run("get group member") { db in
            try await db.raw("""
                SELECT group_id, user_id, role, joined_at FROM group_members
                WHERE group_id = \(bind: groupID) AND user_id = \(bind: userID)
                """).first().map(Self.memberRecord)
        }
    }

    func addGroupMember(groupID: String, userID: String, role: GroupRole, now: Date) async throws(StorageError) {
        try await transaction("add group member") { db in
            guard try await Self.fetchGroup(id: groupID, on: db) != nil else { throw StorageError.notFound("group \(groupID)") }
            guard try await db.raw("SELECT id FROM users WHERE id = \(bind: userID)").first() != nil else {
                throw StorageError.notFound("user \(userID)")
            }
            if try await db.raw("""
                SELECT user_id FROM group_members WHERE group_id = \(bind: groupID) AND user_id = \(bind: userID)
                """).first() != nil {
                throw StorageError.conflict("user \(userID) is already a member of group \(groupID)")
            }
            try await db.raw("""
                INSERT INTO group_members (group_id, user_id, role, joined_at)
                VALUES (\(bind: groupID), \(bind: userID), \(bind: role.rawValue), \(bind: now.storageMillis))
                """).run()
        }
    }

    func setGroupMemberRole(groupID: String, userID: String, role: GroupRole) async throws(StorageError) {
        let updated = try await run("set group member role") { db in
            try await db.raw("""
                UPDATE group_members SET role = \(bind: role.rawValue)
                WHERE group_id = \(bind: groupID) AND user_id = \(bind: userID) RETURNING user_id
                """).all().count
        }
        guard updated > 0 else { throw .notFound("member \(userID) of group \(groupID)") }
    }

    @discardableResult
    func removeGroupMember(groupID: String, userID: String) async throws(StorageError) -> Bool {
        try await run("remove group member") { db in
            try await db.raw("""
                DELETE FROM group_members WHERE group_id = \(bind: groupID) AND user_id = \(bind: userID) RETURNING user_id
                """).all().count > 0
        }
    }

    static func groupRecord(_ row: any SQLRow) throws -> GroupRecord {
        GroupRecord(id: try row.string("id"), name: try row.optionalString("name"), createdBy: try row.optionalString("created_by"),
                    createdAt: try row.date("created_at"))
    }

    static func memberRecord(_ row: any SQLRow) throws -> GroupMember {
        GroupMember(groupID: try row.string("group_id"), userID: try row.string("user_id"),
                    role: try row.enumeration("role", as: GroupRole.self), joinedAt: try row.date("joined_at"))
    }
}
