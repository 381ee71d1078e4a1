#include "loom/fhe/ckks/serialization.h"

#include <sodium.h>

#include <cmath>
#include <cstring>

#include "loom/base/strings.h"

namespace loom::ckks {
namespace {

constexpr char kMagic[8] = {'L', 'O', 'O', 'M', 'C', 'K', 'K', 'S'};
constexpr size_t kHeader = 8 + 2 + 1 + 1 + 8;
constexpr size_t kDigest = 16;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void F64(double v) { Raw(&v, 8); }
  void Words(const std::vector<uint64_t>& w) {
    U64(w.size());
    Raw(w.data(), w.size() * 8);
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  // Wraps the payload in header + digest.
  std::string Finish(BlobKind kind) {
    std::string blob(kMagic, 8);
    uint16_t version = kSerializationVersion;
    blob.append(reinterpret_cast<const char*>(&version), 2);
    blob.push_back(static_cast<char>(kind));
    blob.push_back(0);
    uint64_t len = out_.size();
    blob.append(reinterpret_cast<const char*>(&len), 8);
    blob += out_;
    unsigned char digest[kDigest];
    crypto_generichash(digest, kDigest, reinterpret_cast<const unsigned char*>(out_.data()),
                       out_.size(), nullptr, 0);
    blob.append(reinterpret_cast<const char*>(digest), kDigest);
    return blob;
  }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view payload) : p_(payload) {}
  Status Need(size_t n, const char* what) {
    if (p_.size() - pos_ < n)
      return DataLossError(StrCat("ckks blob truncated reading ", what, " at payload byte ", pos_));
    return OkStatus();
  }
  StatusOr<uint32_t> U32(const char* what) {
    uint32_t v;
    LOOM_RETURN_IF_ERROR(Read(&v, 4, what));
    return v;
  }
  StatusOr<uint64_t> U64(const char* what) {
    uint64_t v;
    LOOM_RETURN_IF_ERROR(Read(&v, 8, what));
    return v;
  }
  StatusOr<double> F64(const char* what) {
    double v;
    LOOM_RETURN_IF_ERROR(Read(&v, 8, what));
    return v;
  }
  // A word vector whose length must equal `expected`.
  StatusOr<std::vector<uint64_t>> Words(size_t expected, const char* what) {
    LOOM_ASSIGN_OR_RETURN(uint64_t count, U64(what));
    if (count != expected)
      return DataLossError(StrCat("ckks blob: ", what, " has ", count, " words, expected ", expected));
    LOOM_RETURN_IF_ERROR(Need(count * 8, what));
    std::vector<uint64_t> w(count);
    std::memcpy(w.data(), p_.data() + pos_, count * 8);
    pos_ += count * 8;
    return w;
  }
  Status Done() {
    if (pos_ != p_.size())
      return DataLossError(StrCat("ckks blob: ", p_.size() - pos_, " trailing payload bytes"));
    return OkStatus();
  }

 private:
  Status Read(void* v, size_t n, const char* what) {
    LOOM_RETURN_IF_ERROR(Need(n, what));
    std::memcpy(v, p_.data() + pos_, n);
    pos_ += n;
    return OkStatus();
  }
  std::string_view p_;
  size_t pos_ = 0;
};

// Checks the envelope and returns the payload.
StatusOr<std::string_view> Open(std::string_view blob, BlobKind kind) {
  if (blob.size() < kHeader + kDigest)
    return DataLossError(StrCat("ckks blob truncated: ", blob.size(), " bytes"));
  if (std::memcmp(blob.data(), kMagic, 8) != 0) return DataLossError("ckks blob: bad magic");
  uint16_t version;
  std::memcpy(&version, blob.data() + 8, 2);
  if (version != kSerializationVersion)
    return DataLossError(StrCat("ckks blob: unsupported version ", version, " (this build reads ",
                                kSerializationVersion, ")"));
  if (static_cast<uint8_t>(blob[10]) != static_cast<uint8_t>(kind))
    return DataLossError(StrCat("ckks blob: kind ", static_cast<int>(static_cast<uint8_t>(blob[10])),
                                ", expected ", static_cast<int>(kind)));
  uint64_t len;
  std::memcpy(&len, blob.data() + 12, 8);
  if (len != blob.size() - kHeader - kDigest)
    return DataLossError(StrCat("ckks blob: payload length ", len, " but ",
                                blob.size() - kHeader - kDigest, " bytes present"));
  std::string_view payload = blob.substr(kHeader, len);
  unsigned char digest[kDigest];
  crypto_generichash(digest, kDigest, reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size(), nullptr, 0);
  if (sodium_memcmp(digest, blob.data() + kHeader + len, kDigest) != 0)
    return DataLossError("ckks blob: checksum mismatch (corrupted)");
  return payload;
}

Status CheckFingerprint(const Context& ctx, uint64_t fp, const char* what) {
  if (fp != ctx.fingerprint())
    return FailedPreconditionError(StrCat(what, " was made for a different CKKS context"));
  return OkStatus();
}

// Every word of `rows` rows of n, row r over prime prime_of(r), must be below that prime.
template <typename F>
Status CheckResidues(const Context& ctx, const std::vector<uint64_t>& w, size_t rows, F prime_of,
                     const char* what) {
  const size_t n = ctx.n();
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t q = ctx.primes()[prime_of(r)];
    for (size_t k = 0; k < n; ++k)
      if (w[r * n + k] >= q)
        return DataLossError(StrCat(what, ": residue at row ", r, " coefficient ", k,
                                    " is not below its prime"));
  }
  return OkStatus();
}

void WriteKsk(Writer& w, const KSwitchKey& k) {
  w.U64(k.fingerprint);
  w.U32(static_cast<uint32_t>(k.digits));
  w.Words(k.data);
}

StatusOr<KSwitchKey> ReadKsk(const Context& ctx, Reader& r) {
  KSwitchKey k;
  LOOM_ASSIGN_OR_RETURN(k.fingerprint, r.U64("key fingerprint"));
  LOOM_RETURN_IF_ERROR(CheckFingerprint(ctx, k.fingerprint, "key-switching key"));
  LOOM_ASSIGN_OR_RETURN(uint32_t digits, r.U32("digits"));
  const size_t alpha = ctx.num_special_primes(), np = ctx.num_primes();
  const size_t want_digits = (ctx.num_data_primes() + alpha - 1) / alpha;
  if (digits != want_digits)
    return DataLossError(StrCat("key-switching key has ", digits, " digits, expected ", want_digits));
  k.digits = static_cast<int>(digits);
  LOOM_ASSIGN_OR_RETURN(k.data, r.Words(digits * 2 * np * ctx.n(), "key data"));
  LOOM_RETURN_IF_ERROR(CheckResidues(ctx, k.data, digits * 2 * np,
                                     [np](size_t row) { return row % np; }, "key-switching key"));
  return k;
}

}  // namespace

std::string SerializeParameters(const Context& ctx) {
  Writer w;
  w.U64(ctx.n());
  w.U32(static_cast<uint32_t>(ctx.num_special_primes()));
  w.U32(static_cast<uint32_t>(ctx.parameters().security));
  w.U32(static_cast<uint32_t>(ctx.num_primes()));
  for (uint64_t q : ctx.primes()) w.U64(q);
  return w.Finish(BlobKind::kParameters);
}

StatusOr<Parameters> DeserializeParameters(std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kParameters));
  Reader r(payload);
  Parameters p;
  LOOM_ASSIGN_OR_RETURN(p.poly_degree, r.U64("N"));
  LOOM_ASSIGN_OR_RETURN(uint32_t special, r.U32("special_primes"));
  LOOM_ASSIGN_OR_RETURN(uint32_t security, r.U32("security"));
  LOOM_ASSIGN_OR_RETURN(uint32_t count, r.U32("prime count"));
  if (security > static_cast<uint32_t>(SecurityLevel::kQuantum256))
    return DataLossError(StrCat("ckks parameters: unknown security level ", security));
  if (count > 256 || special > count)
    return DataLossError(StrCat("ckks parameters: ", count, " primes, ", special, " special"));
  p.special_primes = static_cast<int>(special);
  p.security = static_cast<SecurityLevel>(security);
  for (uint32_t i = 0; i < count; ++i) {
    LOOM_ASSIGN_OR_RETURN(uint64_t q, r.U64("prime"));
    p.primes.push_back(q);
  }
  LOOM_RETURN_IF_ERROR(r.Done());
  return p;
}

std::string Serialize(const Plaintext& pt) {
  Writer w;
  w.U64(pt.fingerprint);
  w.U32(static_cast<uint32_t>(pt.level));
  w.F64(pt.scale);
  w.Words(pt.data);
  return w.Finish(BlobKind::kPlaintext);
}

std::string Serialize(const Ciphertext& ct) {
  Writer w;
  w.U64(ct.fingerprint);
  w.U32(static_cast<uint32_t>(ct.level));
  w.U32(static_cast<uint32_t>(ct.size));
  w.F64(ct.scale);
  w.Words(ct.data);
  return w.Finish(BlobKind::kCiphertext);
}

std::string Serialize(const PublicKey& pk) {
  Writer w;
  w.U64(pk.fingerprint);
  w.Words(pk.data);
  return w.Finish(BlobKind::kPublicKey);
}

std::string Serialize(const RelinKey& rk) {
  Writer w;
  WriteKsk(w, rk.key);
  return w.Finish(BlobKind::kRelinKey);
}

std::string Serialize(const GaloisKeys& gk) {
  Writer w;
  w.U64(gk.fingerprint);
  w.U32(static_cast<uint32_t>(gk.keys.size()));
  for (const auto& [g, k] : gk.keys) {
    w.U64(g);
    WriteKsk(w, k);
  }
  return w.Finish(BlobKind::kGaloisKeys);
}

std::string Serialize(const SecretKey& sk) {
  Writer w;
  w.U64(sk.fingerprint);
  w.Words(sk.data);
  return w.Finish(BlobKind::kSecretKey);
}

namespace {
Status CheckScale(double scale, const char* what) {
  if (!std::isfinite(scale) || !(scale >= 1.0) || scale > 0x1p1000)
    return DataLossError(StrCat(what, ": scale ", scale, " is not a finite value >= 1"));
  return OkStatus();
}
}  // namespace

StatusOr<Plaintext> DeserializePlaintext(const Context& ctx, std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kPlaintext));
  Reader r(payload);
  Plaintext pt;
  LOOM_ASSIGN_OR_RETURN(pt.fingerprint, r.U64("fingerprint"));
  LOOM_RETURN_IF_ERROR(CheckFingerprint(ctx, pt.fingerprint, "plaintext"));
  LOOM_ASSIGN_OR_RETURN(uint32_t level, r.U32("level"));
  if (level > static_cast<uint32_t>(ctx.max_level()))
    return DataLossError(StrCat("plaintext: level ", level, " > max level ", ctx.max_level()));
  pt.level = static_cast<int>(level);
  LOOM_ASSIGN_OR_RETURN(pt.scale, r.F64("scale"));
  LOOM_RETURN_IF_ERROR(CheckScale(pt.scale, "plaintext"));
  pt.n = ctx.n();
  LOOM_ASSIGN_OR_RETURN(pt.data, r.Words((level + 1) * ctx.n(), "plaintext data"));
  LOOM_RETURN_IF_ERROR(r.Done());
  LOOM_RETURN_IF_ERROR(CheckResidues(ctx, pt.data, level + 1, [](size_t row) { return row; },
                                     "plaintext"));
  return pt;
}

StatusOr<Ciphertext> DeserializeCiphertext(const Context& ctx, std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kCiphertext));
  Reader r(payload);
  Ciphertext ct;
  LOOM_ASSIGN_OR_RETURN(ct.fingerprint, r.U64("fingerprint"));
  LOOM_RETURN_IF_ERROR(CheckFingerprint(ctx, ct.fingerprint, "ciphertext"));
  LOOM_ASSIGN_OR_RETURN(uint32_t level, r.U32("level"));
  LOOM_ASSIGN_OR_RETURN(uint32_t size, r.U32("size"));
  if (level > static_cast<uint32_t>(ctx.max_level()) || size < 2 || size > 3)
    return DataLossError(StrCat("ciphertext: level ", level, " / size ", size, " out of range"));
  ct.level = static_cast<int>(level);
  ct.size = static_cast<int>(size);
  LOOM_ASSIGN_OR_RETURN(ct.scale, r.F64("scale"));
  LOOM_RETURN_IF_ERROR(CheckScale(ct.scale, "ciphertext"));
  ct.n = ctx.n();
  const size_t limbs = level + 1;
  LOOM_ASSIGN_OR_RETURN(ct.data, r.Words(size * limbs * ctx.n(), "ciphertext data"));
  LOOM_RETURN_IF_ERROR(r.Done());
  LOOM_RETURN_IF_ERROR(CheckResidues(ctx, ct.data, size * limbs,
                                     [limbs](size_t row) { return row % limbs; }, "ciphertext"));
  return ct;
}

StatusOr<PublicKey> DeserializePublicKey(const Context& ctx, std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kPublicKey));
  Reader r(payload);
  PublicKey pk;
  LOOM_ASSIGN_OR_RETURN(pk.fingerprint, r.U64("fingerprint"));
  LOOM_RETURN_IF_ERROR(CheckFingerprint(ctx, pk.fingerprint, "public key"));
  const size_t l1 = ctx.num_data_primes();
  LOOM_ASSIGN_OR_RETURN(pk.data, r.Words(2 * l1 * ctx.n(), "public key data"));
  LOOM_RETURN_IF_ERROR(r.Done());
  LOOM_RETURN_IF_ERROR(CheckResidues(ctx, pk.data, 2 * l1, [l1](size_t row) { return row % l1; },
                                     "public key"));
  return pk;
}

StatusOr<RelinKey> DeserializeRelinKey(const Context& ctx, std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kRelinKey));
  Reader r(payload);
  RelinKey rk;
  LOOM_ASSIGN_OR_RETURN(rk.key, ReadKsk(ctx, r));
  LOOM_RETURN_IF_ERROR(r.Done());
  return rk;
}

StatusOr<GaloisKeys> DeserializeGaloisKeys(const Context& ctx, std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kGaloisKeys));
  Reader r(payload);
  GaloisKeys gk;
  LOOM_ASSIGN_OR_RETURN(gk.fingerprint, r.U64("fingerprint"));
  LOOM_RETURN_IF_ERROR(CheckFingerprint(ctx, gk.fingerprint, "Galois keys"));
  LOOM_ASSIGN_OR_RETURN(uint32_t count, r.U32("key count"));
  if (count > ctx.n()) return DataLossError(StrCat("Galois keys: ", count, " keys"));
  for (uint32_t i = 0; i < count; ++i) {
    LOOM_ASSIGN_OR_RETURN(uint64_t g, r.U64("Galois element"));
    if (g % 2 == 0 || g >= 2 * ctx.n() || gk.keys.count(g))
      return DataLossError(StrCat("Galois keys: bad or repeated element ", g));
    LOOM_ASSIGN_OR_RETURN(KSwitchKey k, ReadKsk(ctx, r));
    gk.keys.emplace(g, std::move(k));
  }
  LOOM_RETURN_IF_ERROR(r.Done());
  return gk;
}

StatusOr<SecretKey> DeserializeSecretKey(const Context& ctx, std::string_view blob) {
  LOOM_ASSIGN_OR_RETURN(std::string_view payload, Open(blob, BlobKind::kSecretKey));
  Reader r(payload);
  SecretKey sk;
  LOOM_ASSIGN_OR_RETURN(sk.fingerprint, r.U64("fingerprint"));
  LOOM_RETURN_IF_ERROR(CheckFingerprint(ctx, sk.fingerprint, "secret key"));
  const size_t np = ctx.num_primes();
  LOOM_ASSIGN_OR_RETURN(sk.data, r.Words(np * ctx.n(), "secret key data"));
  LOOM_RETURN_IF_ERROR(r.Done());
  LOOM_RETURN_IF_ERROR(CheckResidues(ctx, sk.data, np, [](size_t row) { return row; }, "secret key"));
  return sk;
}

}  // namespace loom::ckks
