import Foundation
import Testing
@testable import Storage

@Suite struct GroupsTests {
    @Test(arguments: TestBackend.selected)
    func groupsWithRoles(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let owner = try await storage.createUser(handle: "owner", displayName: nil, now: t0)
            let admin = try await storage.createUser(handle: "admin", displayName: nil, now: t0)
            let member = try await storage.createUser(handle: "member", displayName: nil, now: t0)

            let group = try await storage.createGroup(id: "g1", name: "Cats", ownerID: owner.id,
                                                      members: [admin.id: .admin, owner.id: .member], now: at(1))
            #expect(try await storage.group(id: "g1") == group)
            let roles = Dictionary(uniqueKeysWithValues: try await storage.groupMembers(groupID: "g1").map { ($0.userID, $0.role) })
            #expect(roles == [owner.id: .owner, admin.id: .admin])
            await expectStorageError(.conflict) { _ = try await storage.createGroup(id: "g1", name: nil, ownerID: owner.id, members: [:], now: t0) }
            await expectStorageError(.notFound) {
                _ = try await storage.createGroup(id: "g2", name: nil, ownerID: owner.id, members: ["ghost": .member], now: t0)
            }
            #expect(try await storage.group(id: "g2") == nil)

            try await storage.addGroupMember(groupID: "g1", userID: member.id, role: .member, now: at(2))
            await expectStorageError(.conflict) { try await storage.addGroupMember(groupID: "g1", userID: member.id, role: .admin, now: at(3)) }
            await expectStorageError(.notFound) { try await storage.addGroupMember(groupID: "nope", userID: member.id, role: .admin, now: at(3)) }
            try await storage.setGroupMemberRole(groupID: "g1", userID: member.id, role: .admin)
            #expect(try await storage.groupMember(groupID: "g1", userID: member.id)?.role == .admin)
            await expectStorageError(.notFound) { try await storage.setGroupMemberRole(groupID: "g1", userID: "ghost", role: .admin) }

            let generated = try await storage.createGroup(id: nil, name: nil, ownerID: member.id, members: [:], now: at(4))
            #expect(!generated.id.isEmpty)
            #expect(try await storage.groups(userID: member.id).map(\.id) == ["g1", generated.id])

            try await storage.renameGroup(id: "g1", name: "Dogs")
            #expect(try await storage.group(id: "g1")?.name == "Dogs")
            #expect(try await storage.removeGroupMember(groupID: "g1", userID: member.id))
            #expect(try await !storage.removeGroupMember(groupID: "g1", userID: member.id))
            try await storage.deleteGroup(id: "g1")
            #expect(try await storage.group(id: "g1") == nil)
            #expect(try await storage.groupMembers(groupID: "g1").isEmpty)
            await expectStorageError(.notFound) { try await storage.deleteGroup(id: "g1") }
        }
    }
}
