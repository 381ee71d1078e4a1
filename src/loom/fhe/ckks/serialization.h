// Versioned binary serialization of CKKS parameters, keys, plaintexts and ciphertexts
// (docs/formats/ckks.md). Every blob is: "LOOMCKKS", u16 version, u8 kind, u8 reserved,
// u64 payload length, payload, 16-byte BLAKE2b of the payload. Readers check the magic,
// version, kind, lengths, the checksum, the context fingerprint, level/size ranges and that
// every residue is below its prime: any violation is DataLoss (truncated or corrupted) or
// FailedPrecondition (a valid blob for another context), never a crash (fuzzed by
// ckks_serialization_fuzz). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "loom/base/status.h"
#include "loom/fhe/ckks/ciphertext.h"
#include "loom/fhe/ckks/context.h"
#include "loom/fhe/ckks/keys.h"

namespace loom::ckks {

inline constexpr uint16_t kSerializationVersion = 1;

enum class BlobKind : uint8_t {
  kParameters = 1,
  kPlaintext = 2,
  kCiphertext = 3,
  kPublicKey = 4,
  kRelinKey = 5,
  kGaloisKeys = 6,
  kSecretKey = 7,
};

std::string SerializeParameters(const Context& ctx);
// The parameters only; build the Context with Context::Create (which validates them again).
StatusOr<Parameters> DeserializeParameters(std::string_view blob);

std::string Serialize(const Plaintext& pt);
std::string Serialize(const Ciphertext& ct);
std::string Serialize(const PublicKey& pk);
std::string Serialize(const RelinKey& rk);
std::string Serialize(const GaloisKeys& gk);
// The secret key: store it only where the key owner keeps secrets.
std::string Serialize(const SecretKey& sk);

StatusOr<Plaintext> DeserializePlaintext(const Context& ctx, std::string_view blob);
StatusOr<Ciphertext> DeserializeCiphertext(const Context& ctx, std::string_view blob);
StatusOr<PublicKey> DeserializePublicKey(const Context& ctx, std::string_view blob);
StatusOr<RelinKey> DeserializeRelinKey(const Context& ctx, std::string_view blob);
StatusOr<GaloisKeys> DeserializeGaloisKeys(const Context& ctx, std::string_view blob);
StatusOr<SecretKey> DeserializeSecretKey(const Context& ctx, std::string_view blob);

}  // namespace loom::ckks
