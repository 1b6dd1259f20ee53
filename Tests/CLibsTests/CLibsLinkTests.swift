// Every C system-library target compiles, links and answers one real call. A missing -dev package
// or a broken module map fails here, not deep inside a media test.
import CAOM
import CBlake2
import CDav1d
import CHiredis
import COpenH264
import COpenSSL
import COpus
import CSRTP
import CSodium
import CVPX
import CX264
import Foundation
import Testing

@Suite struct CLibsLinkTests {
    @Test func openSSLReportsVersion3() {
        #expect(OpenSSL_version_num() >= 0x3000_0000)
        let key = commucat_EVP_EC_gen("P-256")
        #expect(key != nil)
        EVP_PKEY_free(key)
    }

    @Test func libsrtpFillsACryptoPolicy() {
        // srtp_init() is process-wide and SFUCore owns it; a policy call is a real library call
        // that does not race with it.
        var policy = srtp_crypto_policy_t()
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy)
        #expect(policy.cipher_key_len == 28)
        #expect(srtp_get_version() >= 0x0205_0000)
    }

    @Test func opusEncoderCreates() {
        var error: Int32 = 0
        let encoder = opus_encoder_create(48_000, 2, OPUS_APPLICATION_VOIP, &error)
        #expect(error == OPUS_OK)
        #expect(encoder != nil)
        #expect(commucat_opus_set_bitrate(encoder, 32_000) == OPUS_OK)
        opus_encoder_destroy(encoder)
    }

    @Test func vpxHasVP8AndVP9() {
        var ctx = vpx_codec_ctx_t()
        #expect(commucat_vpx_codec_dec_init(&ctx, vpx_codec_vp8_dx(), nil, 0) == VPX_CODEC_OK)
        vpx_codec_destroy(&ctx)
        #expect(vpx_codec_version() >= 0x010C00)
        #expect(vpx_codec_vp9_cx() != nil)
    }

    @Test func dav1dReportsVersion() {
        let version = String(cString: dav1d_version())
        #expect(version.hasPrefix("1."))
        #expect(commucat_DAV1D_ERR(22) == -22)
    }

    @Test func aomHasAV1Encoder() {
        var cfg = aom_codec_enc_cfg_t()
        #expect(aom_codec_enc_config_default(aom_codec_av1_cx(), &cfg, 0) == AOM_CODEC_OK)
        #expect(cfg.g_w > 0)
    }

    @Test func x264DefaultParams() {
        var param = x264_param_t()
        #expect(x264_param_default_preset(&param, "ultrafast", "zerolatency") == 0)
    }

    @Test func openH264DecoderCreates() {
        var decoder: UnsafeMutablePointer<UnsafePointer<ISVCDecoderVtbl>?>? = nil
        #expect(WelsCreateDecoder(&decoder) == 0)
        #expect(decoder != nil)
        WelsDestroyDecoder(decoder)
    }

    @Test func hiredisReaderParsesAReply() {
        let reader = redisReaderCreate()
        defer { redisReaderFree(reader) }
        let bytes = Array("+PONG\r\n".utf8)
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { _ = redisReaderFeed(reader, $0.baseAddress, buf.count) }
        }
        var reply: UnsafeMutableRawPointer? = nil
        #expect(redisReaderGetReply(reader, &reply) == REDIS_OK)
        let typed = reply?.assumingMemoryBound(to: redisReply.self)
        #expect(typed?.pointee.type == REDIS_REPLY_STATUS)
        freeReplyObject(reply)
    }

    @Test func sodiumInitialises() {
        #expect(sodium_init() >= 0)
        #expect(crypto_sign_publickeybytes() == 32)
    }

    @Test func blake2sHashesTheEmptyString() {
        var out = [UInt8](repeating: 0, count: 32)
        #expect(blake2s(&out, nil, nil, 32, 0, 0) == 0)
        // BLAKE2s-256("") from RFC 7693 Appendix B test vectors.
        let hex = out.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9")
    }
}
