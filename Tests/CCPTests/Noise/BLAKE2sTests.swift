import Testing

@testable import CCP

@Suite struct BLAKE2sTests {
    @Test func rfc7693AppendixBVector() {
        // RFC 7693 Appendix B: BLAKE2s-256("abc").
        let expected = bytes(hex: "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
        #expect(BLAKE2s.hash(Array("abc".utf8)) == expected)
        #expect(BLAKE2s.hash(Array("a".utf8), Array("bc".utf8)) == expected)
    }

    @Test func emptyInput() {
        // BLAKE2s-256 of the empty string (reference implementation output).
        #expect(BLAKE2s.hash([]) == bytes(hex: "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"))
    }

    @Test func hmacPadsLongKeysByHashingThem() {
        let longKey = [UInt8](repeating: 7, count: 100)
        #expect(NoiseKDF.hmac(key: longKey, data: [1]) == NoiseKDF.hmac(key: BLAKE2s.hash(longKey), data: [1]))
        #expect(NoiseKDF.hmac(key: [1], data: [1, 2]) == NoiseKDF.hmac(key: [1], data: [1], [2]))
    }
}
